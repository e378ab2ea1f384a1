"""Pure decision code: observations in, actions out. Nothing here imports an engine or a face."""

from policies import dispatch, inventory, maintenance, mrp, mrp_planner
from policies.base import POLICIES, PolicyLoadError, load_policy, policy_params_model

__all__ = ["dispatch", "inventory", "maintenance", "mrp", "mrp_planner", "POLICIES", "PolicyLoadError", "load_policy",
           "policy_params_model"]
