"""A scenario's ``opening:`` section (what a forecast forked from the live site starts with, issue 7)
may name only the site's items, warehouses, suppliers and assets: `twin validate` reports each unknown
one at its FILE:LINE with its YAML path, exit code 1, no traceback; a good opening validates."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FIXTURES

GOOD = """
opening:
  purchase_orders:
    - {po: 7, item: gauze, location: main, supplier: medsupply, qty: 40, due: 12}
  backorders:
    - {order: 3, item: saline, location: main, qty: 5}
"""

BAD = """
opening:
  purchase_orders:
    - {po: 7, item: gauze, location: main, supplier: medsupply, qty: 40, due: 12}
    - {po: 8, item: gauze, location: main, supplier: bandage-co, qty: 40, due: 12}
  backorders:
    - {order: 3, item: saline, location: main, qty: 5}
    - {order: 4, item: morphine, location: annex, qty: 5}
  assets_down:
    - {asset: autoclave}
"""


def write(folder: Path, opening: str) -> Path:
    (folder / "site_small.yaml").write_text((FIXTURES / "site_small.yaml").read_text())
    main = folder / "forecast.yaml"
    main.write_text((FIXTURES / "baseline.yaml").read_text().rstrip("\n") + "\n" + opening)
    return main


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_unknown_names_in_the_opening_are_file_line_errors_of_twin_validate(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    main = write(tmp_path, BAD)
    result = cli("validate", main)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    po, order, asset = line_of(main, "po: 8"), line_of(main, "order: 4"), line_of(main, "asset: autoclave")
    expected = [
        (po, "opening.purchase_orders[1].supplier", "unknown supplier 'bandage-co'"),
        (order, "opening.backorders[1].item", "unknown item 'morphine'"),
        (order, "opening.backorders[1].location", "unknown warehouse 'annex'"),
        (asset, "opening.assets_down[0].asset", "unknown asset 'autoclave' (the site has no assets)"),
    ]
    for line, path, message in expected:
        assert any(text.startswith(f"{main}:{line}:") and path in text and message in text for text in lines), \
            (line, path, message, result.stderr)
    assert lines[-1] == "4 problem(s) in 1 file(s)"


def test_a_good_opening_validates(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("validate", write(tmp_path, GOOD))
    assert result.exit_code == 0, result.output
