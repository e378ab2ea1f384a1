"""Pure domain data: site structure, operational state, events, actions, durations."""

from twin.model import actions, durations, events, observations, scenario, site, state

__all__ = ["actions", "durations", "events", "observations", "scenario", "site", "state"]
