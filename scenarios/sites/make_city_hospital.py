# ruff: noqa: E501  (the item table reads best as one item per line)
"""Generate ``city-hospital.yaml``: the consumables and surgical-kit stores of a ~600-bed city hospital.

What it makes
-------------
A LEMS Twin site file with

- ~250 items (issue units, EUR unit costs, shelf lives, storage classes, categories): PPE, wound
  care, trauma, IV therapy, general clinical, respiratory, urology, linen, nutrition, maternity,
  pharmacy (ambient, controlled and cold-chain drugs), laboratory (tubes and cold reagents) and
  theatre consumables, sterile procedure packs and orthopaedic implants;
- five suppliers: the main medical distributor (``medsupply``, ~2d gamma lead time), a pharma
  wholesaler, a specialist sterile-kit supplier (7d, less reliable, partial deliveries), an implant
  supplier and a cold-chain lab-reagent supplier;
- two warehouses: the central store (serves wards by requisition) and the theatre store (serves
  the surgery schedule's kits and theatre top-ups);
- customers (wards) with ``order_every``: their usage is gathered into daily or twice-daily
  requisitions;
- demand streams per item and ward (poisson for steady movers, negbin for erratic ones; weekly
  factors with lower weekend demand, weekday-only outpatients);
- procedures (surgery types) with per-day rates, weekday-only elective lists, and a kit (bill of
  consumables) drawn from the theatre store.

Everything is fixed data and integer arithmetic on it: the output is the same on every run.

How to re-run
-------------
From the repository root::

    python scenarios/sites/make_city_hospital.py          # writes scenarios/sites/city-hospital.yaml
    python scenarios/sites/make_city_hospital.py --check  # also prints the expected load per day

Edit the tables below (not the YAML) and re-run; then ``twin validate scenarios/hospital/*.yaml``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import yaml

OUT = Path(__file__).with_name("city-hospital.yaml")

Y1, Y2, Y3, Y5 = "365d", "730d", "1095d", "1825d"

# -- weekly profiles (Monday first; each averages 1.0, so the stream mean is the weekly mean) ---------
WARD = [1.05, 1.05, 1.04, 1.03, 1.02, 0.92, 0.89]  # inpatient wards: quieter weekends
ED = [1.10, 1.00, 0.98, 0.98, 1.00, 0.97, 0.97]  # emergency department: Monday peak
OUTPT = [1.30, 1.30, 1.30, 1.30, 1.30, 0.25, 0.25]  # clinics: weekdays only (a few weekend lists)
LAB = [1.15, 1.15, 1.10, 1.10, 1.10, 0.65, 0.75]
THEATRE = [1.30, 1.30, 1.30, 1.30, 1.30, 0.25, 0.25]  # theatre top-ups follow the elective lists
ELECTIVE = [1.40, 1.40, 1.40, 1.40, 1.40, 0.0, 0.0]  # elective surgery: weekday lists only
EMERGENCY = [1.05, 1.0, 1.0, 1.0, 1.05, 0.95, 0.95]  # emergency surgery: every day

# -- customers: who orders, how often, and their calendar ------------------------------------------
# id: (name, order_every, weekly profile, warehouse)
CUSTOMERS: dict[str, tuple[str, str | None, list[float] | None, str]] = {
    "ed": ("Emergency department", "8h", ED, "central"),
    "icu": ("Intensive care unit", "12h", None, "central"),
    "ward-med-a": ("Medical wards A (cardiology, respiratory)", "1d", WARD, "central"),
    "ward-med-b": ("Medical wards B (elderly care, gastro)", "1d", WARD, "central"),
    "ward-surg": ("General surgery wards", "1d", WARD, "central"),
    "ward-ortho": ("Orthopaedic and trauma ward", "1d", WARD, "central"),
    "maternity": ("Maternity and labour ward", "12h", None, "central"),
    "paeds": ("Paediatric ward", "1d", WARD, "central"),
    "outpatients": ("Outpatient clinics and day unit", "1d", OUTPT, "central"),
    "lab": ("Clinical laboratory", "1d", LAB, "central"),
    "theatre-topup": ("Theatre suite top-ups (outside kits)", "12h", THEATRE, "theatre"),
    "theatres": ("Theatre lists (one order per operation's kit)", None, None, "theatre"),
}

# Share of an item's ward demand by category (split over the wards listed, largest first).
SHARES: dict[str, dict[str, float]] = {
    "ppe": {"ward-med-a": 0.2, "ward-med-b": 0.2, "ed": 0.18, "icu": 0.14, "ward-surg": 0.1,
            "maternity": 0.07, "outpatients": 0.06, "paeds": 0.05},
    "wound-care": {"ward-surg": 0.28, "outpatients": 0.18, "ed": 0.16, "ward-ortho": 0.14,
                   "ward-med-b": 0.14, "icu": 0.1},
    "trauma": {"ed": 0.8, "ward-ortho": 0.1, "icu": 0.1},
    "iv-therapy": {"ward-med-a": 0.2, "ward-med-b": 0.2, "icu": 0.2, "ward-surg": 0.15, "ed": 0.13,
                   "ward-ortho": 0.05, "maternity": 0.04, "paeds": 0.03},
    "clinical": {"ward-med-a": 0.2, "ward-med-b": 0.2, "ed": 0.16, "icu": 0.14, "ward-surg": 0.12,
                 "outpatients": 0.08, "maternity": 0.05, "paeds": 0.05},
    "respiratory": {"icu": 0.38, "ed": 0.27, "ward-med-a": 0.25, "paeds": 0.1},
    "urology": {"ward-med-b": 0.3, "ward-surg": 0.3, "icu": 0.2, "ward-ortho": 0.2},
    "linen": {"ward-med-a": 0.2, "ward-med-b": 0.2, "ward-surg": 0.15, "ward-ortho": 0.1,
              "maternity": 0.12, "ed": 0.13, "icu": 0.1},
    "nutrition": {"ward-med-b": 0.45, "ward-med-a": 0.25, "icu": 0.2, "ward-surg": 0.1},
    "maternity": {"maternity": 1.0},
    "pharmacy": {"ward-med-a": 0.22, "ward-med-b": 0.22, "ward-surg": 0.18, "icu": 0.14, "ed": 0.12,
                 "ward-ortho": 0.07, "maternity": 0.05},
    "lab": {"lab": 1.0},
    "phlebotomy": {"ward-med-a": 0.22, "ward-med-b": 0.2, "ed": 0.22, "outpatients": 0.2, "icu": 0.16},
    "surgical": {"ward-surg": 0.4, "ed": 0.3, "outpatients": 0.3},
    "sterile-kit": {"ward-surg": 0.5, "outpatients": 0.5},
    "implant": {},
}

# -- items -----------------------------------------------------------------------------------------
# (id, name, category, unit cost EUR, shelf life or None, storage, supplier,
#  ward demand per day, 'p' poisson / 'n' negbin, theatre top-up demand per day, extra Item fields)
# Theatre-only items (implants, packs) have ward demand 0; kits below add the surgery-driven demand.
ItemRow = tuple[str, str, str, float, str | None, str, str, float, str, float, dict]


def _rows() -> list[ItemRow]:
    M, P, K, OI, L = "medsupply", "pharmaco", "sterikit", "orthoimplant", "labdiag"
    A, C, X = "ambient", "cold", "controlled"
    crit: dict = {"backorder_cost_factor": 1.0}  # life-critical: a day short costs the unit price
    lost = {"unmet": "lost_sale"}  # the ward falls back on laundered linen
    rows: list[ItemRow] = [
        # ---- PPE
        ("glove-nitrile-s", "Nitrile exam gloves S (box 100)", "ppe", 4.10, None, A, M, 18, "p", 1, {}),
        ("glove-nitrile-m", "Nitrile exam gloves M (box 100)", "ppe", 4.10, None, A, M, 40, "p", 3, {}),
        ("glove-nitrile-l", "Nitrile exam gloves L (box 100)", "ppe", 4.10, None, A, M, 25, "p", 2, {}),
        ("glove-nitrile-xl", "Nitrile exam gloves XL (box 100)", "ppe", 4.30, None, A, M, 6, "p", 0, {}),
        ("glove-surg-6.5", "Sterile surgical gloves 6.5 (pair)", "ppe", 0.85, Y5, A, M, 8, "p", 6, {}),
        ("glove-surg-7.0", "Sterile surgical gloves 7.0 (pair)", "ppe", 0.85, Y5, A, M, 12, "p", 8, {}),
        ("glove-surg-7.5", "Sterile surgical gloves 7.5 (pair)", "ppe", 0.85, Y5, A, M, 12, "p", 8, {}),
        ("glove-surg-8.0", "Sterile surgical gloves 8.0 (pair)", "ppe", 0.85, Y5, A, M, 6, "p", 5, {}),
        ("glove-underglove-7.5", "Sterile indicator underglove 7.5 (pair)", "ppe", 1.45, Y5, A, M, 0, "p", 4, {}),
        ("mask-surgical", "Surgical mask type IIR (box 50)", "ppe", 6.50, Y5, A, M, 20, "p", 2, {}),
        ("mask-ffp2", "FFP2 respirator (box 20)", "ppe", 14.00, Y5, A, M, 4, "n", 0, {}),
        ("mask-ffp3", "FFP3 respirator (each)", "ppe", 2.60, Y5, A, M, 15, "n", 0, {}),
        ("apron-plastic", "Disposable apron (roll 200)", "ppe", 9.80, None, A, M, 8, "p", 0, {}),
        ("gown-isolation", "Isolation gown, fluid resistant", "ppe", 1.20, None, A, M, 60, "n", 0, {}),
        ("visor-face", "Face shield", "ppe", 0.90, None, A, M, 12, "n", 2, {}),
        ("goggles-safety", "Safety goggles", "ppe", 3.50, None, A, M, 1, "n", 0, {}),
        ("cap-theatre", "Theatre cap (box 100)", "ppe", 5.20, None, A, M, 0, "p", 3, {}),
        ("overshoe", "Overshoes (box 100)", "ppe", 4.80, None, A, M, 2, "p", 1, {}),
        ("hand-rub-500", "Alcohol hand rub 500 ml", "ppe", 3.40, Y3, A, M, 30, "p", 3, {}),
        ("hand-rub-100", "Alcohol hand rub 100 ml", "ppe", 1.50, Y3, A, M, 15, "p", 0, {}),
        ("soap-chg-500", "Chlorhexidine 4% skin wash 500 ml", "ppe", 4.90, Y2, A, M, 6, "p", 2, {}),
        ("wipes-universal", "Universal disinfectant wipes (tub 200)", "ppe", 6.20, Y2, A, M, 25, "p", 3, {}),
        ("wipes-chlorine", "Chlorine-releasing wipes (tub 100)", "ppe", 7.90, Y2, A, M, 6, "n", 0, {}),
        # ---- wound care
        ("gauze-swab-ns", "Gauze swabs 10x10 non-sterile (pack 100)", "wound-care", 2.80, None, A, M, 15, "p", 0, {}),
        ("gauze-swab-st", "Sterile gauze swabs 10x10 (pack 5)", "wound-care", 0.35, Y5, A, M, 80, "p", 10, {}),
        ("dress-film-6x7", "Transparent film dressing 6x7 cm", "wound-care", 0.55, Y3, A, M, 60, "p", 0, {}),
        ("dress-film-10x12", "Transparent film dressing 10x12 cm", "wound-care", 1.10, Y3, A, M, 25, "p", 0, {}),
        ("dress-foam-10", "Silicone foam dressing 10x10 cm", "wound-care", 3.90, Y3, A, M, 20, "n", 0, {}),
        ("dress-foam-15", "Silicone foam dressing 15x15 cm", "wound-care", 5.80, Y3, A, M, 10, "n", 0, {}),
        ("dress-foam-sacrum", "Silicone foam sacrum dressing", "wound-care", 7.40, Y3, A, M, 8, "n", 0, {}),
        ("dress-island-9x10", "Adhesive island dressing 9x10 cm", "wound-care", 0.28, Y3, A, M, 90, "p", 8, {}),
        ("dress-island-9x25", "Adhesive island dressing 9x25 cm", "wound-care", 0.55, Y3, A, M, 40, "p", 4, {}),
        ("dress-alginate", "Calcium alginate dressing 10x10 cm", "wound-care", 2.70, Y3, A, M, 6, "n", 0, {}),
        ("dress-hydrocolloid", "Hydrocolloid dressing 10x10 cm", "wound-care", 3.10, Y3, A, M, 6, "n", 0, {}),
        ("dress-silver", "Silver antimicrobial dressing 10x10 cm", "wound-care", 9.50, Y3, A, M, 4, "n", 0, {}),
        ("dress-honey", "Medical honey dressing 10x10 cm", "wound-care", 4.20, Y2, A, M, 2, "n", 0, {}),
        ("npwt-dressing-kit", "NPWT dressing kit, medium", "wound-care", 38.00, Y3, A, M, 1.2, "n", 0.3, {}),
        ("npwt-canister", "NPWT canister 300 ml", "wound-care", 22.00, Y5, A, M, 1.5, "n", 0, {}),
        ("bandage-crepe-10", "Crepe bandage 10 cm", "wound-care", 0.45, None, A, M, 30, "p", 4, {}),
        ("bandage-cohesive", "Cohesive bandage 7.5 cm", "wound-care", 1.10, None, A, M, 10, "p", 0, {}),
        ("bandage-compr-kit", "Four-layer compression bandage kit", "wound-care", 14.50, Y5, A, M, 3, "n", 0, {}),
        ("tape-micropore", "Microporous tape 2.5 cm", "wound-care", 0.40, None, A, M, 40, "p", 4, {}),
        ("tape-zinc", "Zinc oxide tape 2.5 cm", "wound-care", 0.90, None, A, M, 6, "p", 0, {}),
        ("skin-closure-strips", "Skin closure strips 6x75 mm (envelope 3)", "wound-care", 0.30, Y5, A, M, 20, "p", 3, {}),
        ("skin-adhesive", "Topical skin adhesive 0.5 ml", "wound-care", 18.00, Y2, A, M, 3, "n", 1, {}),
        ("saline-pod-20", "Sodium chloride 0.9% 20 ml pod", "wound-care", 0.18, Y3, A, M, 100, "p", 10, {}),
        ("dressing-pack", "Sterile dressing pack", "wound-care", 0.95, Y3, A, M, 70, "p", 0, {}),
        # ---- trauma (the mass-casualty categories)
        ("trauma-bandage", "Emergency trauma bandage 15 cm", "trauma", 6.50, Y5, A, M, 1, "n", 0, crit),
        ("haemostatic-gauze", "Kaolin haemostatic gauze", "trauma", 38.00, Y3, A, M, 0.3, "n", 0, crit),
        ("tourniquet", "Windlass tourniquet", "trauma", 28.00, None, A, M, 0.2, "n", 0, crit),
        ("pelvic-binder", "Pelvic binder", "trauma", 95.00, None, A, M, 0.1, "n", 0, crit),
        ("splint-malleable", "Malleable splint 36 in", "trauma", 9.50, None, A, M, 0.8, "n", 0, {}),
        ("cervical-collar", "Adjustable cervical collar", "trauma", 12.00, None, A, M, 0.6, "n", 0, {}),
        ("chest-seal", "Vented chest seal", "trauma", 14.00, Y3, A, M, 0.1, "n", 0, crit),
        ("burns-dressing", "Hydrogel burns dressing 20x20 cm", "trauma", 16.00, Y3, A, M, 0.5, "n", 0, {}),
        ("chest-drain-28", "Chest drain set 28 Fr", "trauma", 24.00, Y5, A, M, 0.4, "n", 0, crit),
        ("chest-drain-bottle", "Underwater seal drainage bottle", "trauma", 18.50, Y5, A, M, 0.4, "n", 0, crit),
        ("io-needle-set", "Intraosseous needle set 25 mm", "trauma", 95.00, Y3, A, M, 0.15, "n", 0, crit),
        ("plaster-cast-10", "Plaster of Paris bandage 10 cm", "trauma", 1.60, Y3, A, M, 10, "n", 0, {}),
        ("cast-padding-10", "Synthetic cast padding 10 cm", "trauma", 0.85, None, A, M, 12, "n", 0, {}),
        ("fibreglass-cast-10", "Fibreglass casting tape 10 cm", "trauma", 6.90, Y3, A, M, 4, "n", 0, {}),
        ("sling-triangular", "Triangular sling", "trauma", 0.70, None, A, M, 6, "n", 0, {}),
        # ---- IV therapy
        ("iv-nacl-1000", "Sodium chloride 0.9% 1000 ml", "iv-therapy", 0.95, Y2, A, P, 160, "p", 12, {}),
        ("iv-nacl-500", "Sodium chloride 0.9% 500 ml", "iv-therapy", 0.90, Y2, A, P, 90, "p", 6, {}),
        ("iv-nacl-250", "Sodium chloride 0.9% 250 ml", "iv-therapy", 0.85, Y2, A, P, 40, "p", 0, {}),
        ("iv-nacl-100", "Sodium chloride 0.9% 100 ml (drug dilution)", "iv-therapy", 0.75, Y2, A, P, 120, "p", 6, {}),
        ("iv-hartmann-1000", "Compound sodium lactate 1000 ml", "iv-therapy", 1.05, Y2, A, P, 70, "p", 10, {}),
        ("iv-glucose5-1000", "Glucose 5% 1000 ml", "iv-therapy", 1.00, Y2, A, P, 25, "p", 0, {}),
        ("iv-glucose10-500", "Glucose 10% 500 ml", "iv-therapy", 1.40, Y2, A, P, 4, "n", 0, {}),
        ("iv-plasmalyte-1000", "Balanced crystalloid 1000 ml", "iv-therapy", 1.90, Y2, A, P, 30, "p", 6, {}),
        ("iv-kcl-1000", "Potassium chloride 0.3% in NaCl 0.9% 1000 ml", "iv-therapy", 1.60, Y2, A, P, 18, "p", 0, {}),
        ("iv-gelatin-500", "Succinylated gelatin 4% 500 ml", "iv-therapy", 6.50, Y3, A, P, 4, "n", 1, {}),
        ("iv-albumin-20", "Human albumin 20% 100 ml", "iv-therapy", 38.00, Y3, A, P, 3, "n", 0, {}),
        ("cannula-14g", "IV cannula 14G", "iv-therapy", 1.10, Y5, A, M, 3, "n", 1, crit),
        ("cannula-18g", "IV cannula 18G", "iv-therapy", 0.95, Y5, A, M, 30, "p", 4, {}),
        ("cannula-20g", "IV cannula 20G", "iv-therapy", 0.95, Y5, A, M, 70, "p", 4, {}),
        ("cannula-22g", "IV cannula 22G", "iv-therapy", 0.95, Y5, A, M, 40, "p", 0, {}),
        ("cannula-24g", "IV cannula 24G", "iv-therapy", 1.05, Y5, A, M, 8, "p", 0, {}),
        ("giving-set-gravity", "Gravity giving set", "iv-therapy", 0.85, Y5, A, M, 110, "p", 6, {}),
        ("giving-set-pump", "Volumetric pump infusion set", "iv-therapy", 4.80, Y5, A, M, 70, "p", 4, {}),
        ("syringe-driver-line", "Syringe driver extension line 150 cm", "iv-therapy", 1.20, Y5, A, M, 40, "p", 4, {}),
        ("three-way-tap", "Three-way tap with 10 cm extension", "iv-therapy", 0.65, Y5, A, M, 50, "p", 6, {}),
        ("needle-free-connector", "Needle-free connector", "iv-therapy", 0.80, Y5, A, M, 60, "p", 0, {}),
        ("flush-nacl-10", "Prefilled saline flush syringe 10 ml", "iv-therapy", 0.38, Y3, A, M, 250, "p", 10, {}),
        ("cvc-kit-3l", "Central venous catheter kit, 3-lumen", "iv-therapy", 62.00, Y3, A, M, 1.5, "n", 0.5, {}),
        ("picc-kit", "PICC line insertion kit", "iv-therapy", 145.00, Y3, A, M, 0.4, "n", 0, {}),
        ("art-line-kit", "Arterial line kit 20G", "iv-therapy", 24.00, Y3, A, M, 1.5, "n", 1, {}),
        ("pressure-transducer", "Pressure transducer set, single", "iv-therapy", 18.00, Y3, A, M, 2, "n", 1, {}),
        ("iv-dressing-chg", "CHG IV securement dressing", "iv-therapy", 2.60, Y2, A, M, 35, "p", 0, {}),
        ("blood-giving-set", "Blood administration set", "iv-therapy", 1.50, Y5, A, M, 14, "p", 2, crit),
        ("fluid-warmer-set", "Fluid warmer disposable set", "iv-therapy", 19.00, Y3, A, M, 2, "n", 2, {}),
        # ---- general clinical
        ("syringe-2ml", "Syringe 2 ml (box 100)", "clinical", 4.50, Y5, A, M, 8, "p", 1, {}),
        ("syringe-5ml", "Syringe 5 ml (box 100)", "clinical", 5.20, Y5, A, M, 10, "p", 1, {}),
        ("syringe-10ml", "Syringe 10 ml (box 100)", "clinical", 7.80, Y5, A, M, 12, "p", 1, {}),
        ("syringe-20ml", "Syringe 20 ml (box 50)", "clinical", 7.50, Y5, A, M, 6, "p", 1, {}),
        ("syringe-50ml", "Syringe 50 ml luer lock", "clinical", 0.45, Y5, A, M, 60, "p", 4, {}),
        ("needle-21g", "Hypodermic needle 21G (box 100)", "clinical", 2.40, Y5, A, M, 5, "p", 1, {}),
        ("needle-23g", "Hypodermic needle 23G (box 100)", "clinical", 2.40, Y5, A, M, 3, "p", 0, {}),
        ("needle-blunt-fill", "Blunt filter fill needle (box 100)", "clinical", 3.50, Y5, A, M, 9, "p", 1, {}),
        ("safety-needle-25g", "Safety needle 25G (box 100)", "clinical", 11.50, Y5, A, M, 5, "p", 0, {}),
        ("insulin-syringe", "Insulin syringe 0.5 ml (box 100)", "clinical", 14.00, Y5, A, M, 3, "p", 0, {}),
        ("sharps-bin-1l", "Sharps container 1 l", "clinical", 1.30, None, A, M, 25, "p", 2, {}),
        ("sharps-bin-7l", "Sharps container 7 l", "clinical", 3.20, None, A, M, 8, "p", 1, {}),
        ("sharps-bin-22l", "Sharps container 22 l", "clinical", 6.10, None, A, M, 2, "p", 1, {}),
        ("alcohol-swab", "Alcohol swabs (box 200)", "clinical", 2.20, Y3, A, M, 12, "p", 1, {}),
        ("chg-applicator-3", "Chlorhexidine 2% in alcohol applicator 3 ml", "clinical", 0.95, Y2, A, M, 40, "p", 0, {}),
        ("specimen-pot", "Universal specimen container 30 ml", "clinical", 0.09, None, A, M, 150, "p", 10, {}),
        ("bedpan-pulp", "Pulp bedpan", "clinical", 0.22, None, A, M, 120, "p", 0, {}),
        ("vomit-bowl", "Pulp vomit bowl", "clinical", 0.12, None, A, M, 80, "p", 4, {}),
        ("ecg-electrode", "ECG electrodes (pack 50)", "clinical", 4.50, Y2, A, M, 12, "p", 2, {}),
        ("probe-cover", "Tympanic thermometer probe covers (box 200)", "clinical", 11.00, None, A, M, 3, "p", 0, {}),
        ("spo2-sensor", "Disposable SpO2 sensor, adult", "clinical", 9.50, Y5, A, M, 6, "n", 2, {}),
        ("bp-cuff-single", "Single-patient blood-pressure cuff, adult", "clinical", 3.80, None, A, M, 6, "p", 0, {}),
        ("ng-tube-12", "Nasogastric tube 12 Fr", "clinical", 3.20, Y5, A, M, 4, "n", 1, {}),
        ("enteral-pump-set", "Enteral feeding pump set", "clinical", 5.50, Y5, A, M, 12, "p", 0, {}),
        ("ted-stockings", "Anti-embolism stockings (pair)", "clinical", 4.80, None, A, M, 20, "p", 0, {}),
        ("staple-remover", "Skin staple remover", "clinical", 1.20, Y5, A, M, 8, "p", 0, {}),
        ("suture-pack-ed", "Suture and laceration pack", "clinical", 6.40, Y3, A, M, 8, "n", 0, {}),
        # ---- nutrition
        ("enteral-feed-1500", "Enteral feed 1.5 kcal/ml 1000 ml", "nutrition", 9.80, Y1, A, M, 15, "p", 0, {}),
        ("oral-supplement", "Oral nutritional supplement 200 ml", "nutrition", 1.70, Y1, A, M, 60, "p", 0, {}),
        ("thickener", "Food and drink thickener 175 g", "nutrition", 8.20, Y2, A, M, 3, "p", 0, {}),
        # ---- respiratory
        ("o2-mask-nrb", "Non-rebreathe oxygen mask", "respiratory", 1.10, Y5, A, M, 15, "p", 1, {}),
        ("o2-nasal-cannula", "Nasal oxygen cannula", "respiratory", 0.45, Y5, A, M, 30, "p", 2, {}),
        ("o2-venturi-kit", "Venturi mask kit", "respiratory", 1.60, Y5, A, M, 10, "p", 0, {}),
        ("nebuliser-kit", "Nebuliser mask kit", "respiratory", 1.25, Y5, A, M, 15, "p", 0, {}),
        ("hme-filter", "HME bacterial/viral filter", "respiratory", 1.80, Y5, A, M, 25, "p", 0, {}),
        ("suction-catheter-12", "Suction catheter 12 Fr", "respiratory", 0.25, Y5, A, M, 80, "p", 4, {}),
        ("closed-suction-kit", "Closed suction catheter 14 Fr (72 h)", "respiratory", 9.80, Y5, A, M, 5, "n", 0, {}),
        ("yankauer", "Yankauer suction tip", "respiratory", 0.55, Y5, A, M, 25, "p", 0, {}),
        ("suction-liner-2l", "Suction liner 2 l", "respiratory", 2.20, None, A, M, 25, "p", 0, {}),
        ("ett-7.5", "Endotracheal tube 7.5 cuffed", "respiratory", 2.40, Y5, A, M, 3, "n", 0, crit),
        ("ett-8.0", "Endotracheal tube 8.0 cuffed", "respiratory", 2.40, Y5, A, M, 3, "n", 0, crit),
        ("laryngoscope-blade", "Disposable laryngoscope blade Mac 3", "respiratory", 4.90, Y5, A, M, 6, "n", 0, crit),
        ("igel-4", "Supraglottic airway size 4", "respiratory", 8.50, Y5, A, M, 4, "n", 0, crit),
        ("guedel-airway", "Oropharyngeal airway, assorted", "respiratory", 0.60, Y5, A, M, 5, "p", 0, {}),
        ("bvm-adult", "Bag-valve-mask resuscitator, adult", "respiratory", 14.00, Y5, A, M, 1, "n", 0, crit),
        ("vent-circuit", "Ventilator breathing circuit, adult", "respiratory", 18.50, Y5, A, M, 4, "n", 0, {}),
        ("trache-tube-8", "Tracheostomy tube 8.0 cuffed", "respiratory", 42.00, Y5, A, M, 0.3, "n", 0, {}),
        ("capno-line", "Capnography sampling line", "respiratory", 6.80, Y5, A, M, 8, "p", 2, {}),
        # ---- urology
        ("foley-14", "Foley catheter 14 Fr silicone", "urology", 4.90, Y5, A, M, 12, "p", 0, {}),
        ("foley-16", "Foley catheter 16 Fr silicone", "urology", 4.90, Y5, A, M, 10, "p", 0, {}),
        ("foley-3way-20", "Three-way irrigation catheter 20 Fr", "urology", 9.20, Y5, A, M, 1, "n", 0, {}),
        ("urine-bag-2l", "Urine drainage bag 2 l", "urology", 0.75, Y5, A, M, 30, "p", 2, {}),
        ("urine-meter", "Urine meter with bag", "urology", 8.50, Y5, A, M, 6, "p", 0, {}),
        ("cath-pack", "Catheterisation pack with lidocaine gel", "urology", 2.40, Y2, A, M, 22, "p", 0, {}),
        ("incontinence-pad", "Incontinence pads (pack 28)", "urology", 6.90, None, A, M, 18, "p", 0, {}),
        ("incontinence-pants", "Pull-up incontinence pants M (pack 14)", "urology", 8.10, None, A, M, 8, "p", 0, {}),
        # ---- linen (disposable)
        ("sheet-disposable", "Disposable bed sheet", "linen", 1.15, None, A, M, 90, "p", 0, lost),
        ("pillowcase-disposable", "Disposable pillowcase", "linen", 0.35, None, A, M, 80, "p", 0, lost),
        ("blanket-disposable", "Disposable blanket", "linen", 2.20, None, A, M, 30, "p", 0, lost),
        ("patient-gown", "Disposable patient gown", "linen", 0.95, None, A, M, 60, "p", 0, {}),
        ("underpad", "Underpads 60x90 cm (pack 25)", "linen", 5.40, None, A, M, 25, "p", 2, {}),
        ("washcloth", "Disposable washcloths (pack 50)", "linen", 2.60, None, A, M, 35, "p", 0, {}),
        ("chg-bath-wipes", "CHG bathing wipes (pack 8)", "linen", 4.50, Y2, A, M, 10, "n", 0, {}),
        ("slide-sheet", "Single-patient slide sheet", "linen", 6.50, None, A, M, 4, "p", 0, {}),
        ("body-bag", "Body bag, adult", "linen", 14.00, None, A, M, 1.5, "n", 0, {}),
        ("privacy-curtain", "Disposable privacy curtain", "linen", 28.00, None, A, M, 1, "n", 0, {}),
        # ---- maternity
        ("cord-clamp", "Umbilical cord clamp", "maternity", 0.35, Y5, A, M, 10, "p", 1, {}),
        ("amniotomy-hook", "Amniotomy hook", "maternity", 0.80, Y5, A, M, 3, "p", 0, {}),
        ("mucus-extractor", "Neonatal mucus extractor", "maternity", 0.90, Y5, A, M, 3, "n", 0, {}),
        ("delivery-pack", "Normal delivery pack", "maternity", 18.00, Y2, A, K, 8, "p", 0, {}),
        ("suture-rapide-2-0", "Rapid-absorbing polyglactin 2-0 (perineal)", "maternity", 4.60, Y5, A, M, 6, "p", 0, {}),
        ("maternity-pad", "Maternity pads (pack 10)", "maternity", 1.90, None, A, M, 14, "p", 0, {}),
        ("ctg-paper", "CTG paper pack", "maternity", 6.20, None, A, M, 3, "p", 0, {}),
        # ---- pharmacy, ambient and controlled
        ("paracetamol-iv-1g", "Paracetamol 1 g/100 ml infusion", "pharmacy", 1.10, Y2, A, P, 80, "p", 10, {}),
        ("paracetamol-500", "Paracetamol 500 mg tablets (pack 100)", "pharmacy", 1.90, Y3, A, P, 12, "p", 0, {}),
        ("ibuprofen-400", "Ibuprofen 400 mg tablets (pack 84)", "pharmacy", 2.40, Y3, A, P, 4, "p", 0, {}),
        ("morphine-10", "Morphine 10 mg/ml ampoule", "pharmacy", 1.40, Y3, X, P, 30, "p", 4, crit),
        ("oxycodone-5", "Oxycodone 5 mg capsules (pack 56)", "pharmacy", 6.80, Y3, X, P, 2, "p", 0, {}),
        ("fentanyl-100", "Fentanyl 100 mcg/2 ml ampoule", "pharmacy", 0.90, Y3, X, P, 6, "p", 6, {}),
        ("ondansetron-4", "Ondansetron 4 mg/2 ml ampoule", "pharmacy", 0.55, Y3, A, P, 40, "p", 4, {}),
        ("metoclopramide-10", "Metoclopramide 10 mg/2 ml ampoule", "pharmacy", 0.35, Y3, A, P, 15, "p", 0, {}),
        ("cefazolin-2g", "Cefazolin 2 g vial", "pharmacy", 3.80, Y3, A, P, 6, "p", 3, {}),
        ("ceftriaxone-2g", "Ceftriaxone 2 g vial", "pharmacy", 2.90, Y3, A, P, 30, "p", 0, {}),
        ("co-amoxiclav-1.2g", "Amoxicillin/clavulanate 1.2 g vial", "pharmacy", 1.90, Y2, A, P, 45, "p", 0, {}),
        ("pip-taz-4.5g", "Piperacillin/tazobactam 4.5 g vial", "pharmacy", 5.50, Y3, A, P, 35, "p", 0, {}),
        ("meropenem-1g", "Meropenem 1 g vial", "pharmacy", 6.20, Y3, A, P, 12, "n", 0, {}),
        ("vancomycin-1g", "Vancomycin 1 g vial", "pharmacy", 5.90, Y3, A, P, 8, "n", 0, {}),
        ("gentamicin-80", "Gentamicin 80 mg/2 ml ampoule", "pharmacy", 1.30, Y3, A, P, 8, "p", 1, {}),
        ("metronidazole-iv", "Metronidazole 500 mg/100 ml infusion", "pharmacy", 1.60, Y2, A, P, 18, "p", 0, {}),
        ("enoxaparin-40", "Enoxaparin 40 mg prefilled syringe", "pharmacy", 2.40, Y3, A, P, 110, "p", 0, {}),
        ("heparin-5000", "Heparin 5,000 IU/ml 5 ml vial", "pharmacy", 3.20, Y3, A, P, 6, "p", 1, {}),
        ("tranexamic-1g", "Tranexamic acid 1 g/10 ml ampoule", "pharmacy", 2.70, Y3, A, P, 4, "n", 2, crit),
        ("omeprazole-iv-40", "Omeprazole 40 mg vial", "pharmacy", 2.10, Y2, A, P, 20, "p", 0, {}),
        ("furosemide-20", "Furosemide 20 mg/2 ml ampoule", "pharmacy", 0.45, Y3, A, P, 20, "p", 0, {}),
        ("dexamethasone-8", "Dexamethasone 8 mg/2 ml ampoule", "pharmacy", 1.10, Y2, A, P, 6, "p", 4, {}),
        ("hydrocortisone-100", "Hydrocortisone 100 mg vial", "pharmacy", 1.90, Y2, A, P, 6, "p", 0, crit),
        ("adrenaline-1mg", "Adrenaline 1 mg/10 ml prefilled syringe", "pharmacy", 8.50, "540d", A, P, 3, "n", 1, crit),
        ("amiodarone-150", "Amiodarone 150 mg/3 ml ampoule", "pharmacy", 1.80, Y3, A, P, 3, "n", 0, crit),
        ("atropine-600", "Atropine 600 mcg/1 ml ampoule", "pharmacy", 1.30, Y2, A, P, 2, "n", 2, crit),
        ("naloxone-400", "Naloxone 400 mcg/1 ml ampoule", "pharmacy", 2.40, Y2, A, P, 2, "n", 0, crit),
        ("lidocaine-1pct", "Lidocaine 1% 10 ml ampoule", "pharmacy", 0.85, Y3, A, P, 20, "p", 5, {}),
        ("bupivacaine-heavy", "Bupivacaine 0.5% heavy 4 ml ampoule", "pharmacy", 1.90, Y3, A, P, 0, "p", 1, {}),
        ("propofol-20", "Propofol 1% 20 ml ampoule", "pharmacy", 1.80, Y3, A, P, 6, "p", 6, {}),
        ("propofol-50", "Propofol 1% 50 ml vial", "pharmacy", 4.20, Y3, A, P, 6, "p", 1, {}),
        ("midazolam-5", "Midazolam 5 mg/5 ml ampoule", "pharmacy", 0.80, Y3, X, P, 8, "p", 2, {}),
        ("ketamine-200", "Ketamine 200 mg/20 ml vial", "pharmacy", 4.80, Y3, X, P, 1, "n", 1, crit),
        ("noradrenaline-4", "Noradrenaline 4 mg/4 ml ampoule", "pharmacy", 4.50, Y2, A, P, 10, "n", 1, crit),
        ("magnesium-50pct", "Magnesium sulfate 50% 10 ml ampoule", "pharmacy", 1.20, Y3, A, P, 6, "p", 0, {}),
        ("bicarbonate-8.4", "Sodium bicarbonate 8.4% 100 ml", "pharmacy", 6.00, Y2, A, P, 2, "n", 0, {}),
        ("glucose-50pct", "Glucose 50% 50 ml", "pharmacy", 2.20, Y2, A, P, 2, "n", 0, crit),
        ("chlorhexidine-alc-500", "Chlorhexidine 0.5% in alcohol 500 ml", "pharmacy", 3.50, Y2, A, P, 6, "p", 2, {}),
        ("povidone-iodine-500", "Povidone-iodine 10% 500 ml", "pharmacy", 4.90, Y2, A, P, 3, "p", 1, {}),
        ("lactulose-500", "Lactulose oral solution 500 ml", "pharmacy", 2.80, Y2, A, P, 4, "p", 0, {}),
        ("salbutamol-neb", "Salbutamol 2.5 mg nebules (pack 20)", "pharmacy", 2.10, Y2, A, P, 10, "p", 0, {}),
        ("ipratropium-neb", "Ipratropium 500 mcg nebules (pack 20)", "pharmacy", 4.30, Y2, A, P, 3, "p", 0, {}),
        ("alteplase-50", "Alteplase 50 mg vial", "pharmacy", 680.00, Y2, A, P, 0.3, "n", 0, crit),
        ("pcc-500", "Prothrombin complex concentrate 500 IU", "pharmacy", 290.00, Y2, A, P, 0.2, "n", 0, crit),
        ("sugammadex-200", "Sugammadex 200 mg/2 ml vial", "pharmacy", 72.00, Y3, A, P, 0, "p", 1.5, {}),
        ("ephedrine-30", "Ephedrine 30 mg/ml ampoule", "pharmacy", 1.90, Y2, A, P, 0, "p", 3, {}),
        ("phenylephrine-pfs", "Phenylephrine 100 mcg/ml prefilled syringe", "pharmacy", 4.80, "540d", A, P, 0, "p", 4, {}),
        ("irrig-nacl-3l", "Sodium chloride 0.9% irrigation 3 l", "pharmacy", 6.20, Y2, A, P, 1, "n", 0, {}),
        ("irrig-nacl-1l", "Sodium chloride 0.9% irrigation 1 l bottle", "pharmacy", 1.40, Y2, A, P, 6, "p", 4, {}),
        # ---- pharmacy, cold chain (2-8 C)
        ("insulin-soluble", "Soluble insulin 100 IU/ml 10 ml vial", "pharmacy", 9.50, Y1, C, P, 3, "p", 0, {}),
        ("insulin-glargine-pen", "Insulin glargine pen 3 ml", "pharmacy", 12.80, Y1, C, P, 4, "p", 0, {}),
        ("oxytocin-10", "Oxytocin 10 IU/ml ampoule", "pharmacy", 0.90, Y2, C, P, 12, "p", 0, crit | {"wards": {"maternity": 1.0}}),
        ("carboprost-250", "Carboprost 250 mcg/ml ampoule", "pharmacy", 22.00, Y2, C, P, 0.4, "n", 0, crit | {"wards": {"maternity": 1.0}}),
        ("rocuronium-50", "Rocuronium 50 mg/5 ml vial", "pharmacy", 3.10, "540d", C, P, 2, "p", 3, {"wards": {"icu": 0.7, "ed": 0.3}}),
        ("suxamethonium-100", "Suxamethonium 100 mg/2 ml ampoule", "pharmacy", 1.60, Y1, C, P, 1, "n", 1, crit | {"wards": {"ed": 0.6, "icu": 0.4}}),
        ("atracurium-50", "Atracurium 50 mg/5 ml ampoule", "pharmacy", 1.90, "540d", C, P, 1, "n", 2, {"wards": {"icu": 1.0}}),
        ("anti-d-1500", "Anti-D immunoglobulin 1500 IU", "pharmacy", 38.00, Y1, C, P, 0.8, "n", 0, {"wards": {"maternity": 1.0}}),
        ("vaccine-td", "Tetanus/diphtheria vaccine", "pharmacy", 11.00, Y1, C, P, 2, "n", 0, {"wards": {"ed": 1.0}}),
        ("vaccine-influenza", "Influenza vaccine, seasonal", "pharmacy", 9.50, "180d", C, P, 3, "n", 0, {"wards": {"outpatients": 1.0}}),
        ("latanoprost", "Latanoprost eye drops 2.5 ml", "pharmacy", 3.60, Y1, C, P, 1, "p", 0, {"wards": {"outpatients": 1.0}}),
        ("infliximab-100", "Infliximab biosimilar 100 mg vial", "pharmacy", 190.00, Y1, C, P, 1.2, "n", 0, {"wards": {"outpatients": 1.0}}),
        ("epoetin-10k", "Epoetin alfa 10,000 IU prefilled syringe", "pharmacy", 38.00, "540d", C, P, 1.5, "n", 0, {"wards": {"outpatients": 0.7, "ward-med-b": 0.3}}),
        # ---- laboratory: tubes and bedside tests (phlebotomy), reagents (lab; many cold, short-dated)
        ("tube-edta", "EDTA tube 4 ml (rack 100)", "phlebotomy", 9.50, Y1, A, L, 6, "p", 0, {}),
        ("tube-sst", "Serum gel tube 5 ml (rack 100)", "phlebotomy", 10.50, Y1, A, L, 8, "p", 0, {}),
        ("tube-citrate", "Sodium citrate tube 2.7 ml (rack 100)", "phlebotomy", 14.00, Y1, A, L, 3, "p", 0, {}),
        ("tube-fluoride", "Fluoride oxalate tube 2 ml (rack 100)", "phlebotomy", 9.00, Y1, A, L, 1, "p", 0, {}),
        ("blood-needle-holder", "Blood collection needle with holder (box 50)", "phlebotomy", 8.50, Y5, A, L, 10, "p", 0, {}),
        ("blood-culture-set", "Blood culture bottle set (aerobic + anaerobic)", "phlebotomy", 7.50, Y1, A, L, 30, "p", 0, {}),
        ("urine-dipstick", "Urine test strips (tub 100)", "phlebotomy", 14.50, Y1, A, L, 2, "p", 0, {}),
        ("glucose-strips", "Blood glucose test strips (tub 50)", "phlebotomy", 12.00, "540d", A, L, 12, "p", 0, {}),
        ("lancet-safety", "Safety lancets (box 200)", "phlebotomy", 11.00, Y5, A, L, 3, "p", 0, {}),
        ("transport-swab", "Transport swab with medium", "phlebotomy", 0.60, Y2, A, L, 30, "p", 0, {}),
        ("reagent-troponin", "hs-Troponin reagent pack (200 tests)", "lab", 520.00, "90d", C, L, 0.6, "p", 0, {}),
        ("reagent-crp", "CRP reagent pack (400 tests)", "lab", 160.00, "120d", C, L, 0.9, "p", 0, {}),
        ("reagent-electrolyte", "Electrolyte (U&E) reagent kit", "lab", 240.00, "90d", C, L, 0.7, "p", 0, {}),
        ("reagent-haematology", "Haematology analyser reagent pack", "lab", 310.00, "180d", A, L, 0.5, "p", 0, {}),
        ("reagent-coag", "PT/APTT reagent kit", "lab", 185.00, "60d", C, L, 0.4, "n", 0, {}),
        ("reagent-bnp", "NT-proBNP reagent pack", "lab", 610.00, "90d", C, L, 0.15, "n", 0, {}),
        ("blood-gas-cartridge", "Blood gas analyser cartridge (150 tests)", "lab", 390.00, "60d", A, L, 0.35, "p", 0, {}),
        ("qc-chemistry", "Chemistry quality-control material", "lab", 95.00, "60d", C, L, 0.5, "p", 0, {}),
        ("pcr-resp-cartridge", "Respiratory PCR cartridge (SARS-CoV-2/Flu/RSV)", "lab", 38.00, "270d", A, L, 12, "n", 0, {}),
        ("crossmatch-card", "Blood group/crossmatch gel cards (box 24)", "lab", 96.00, "180d", A, L, 1.2, "p", 0, {}),
        ("pipette-tips", "Pipette tips 1000 ul (rack 96)", "lab", 4.80, None, A, L, 10, "p", 0, {}),
        ("sample-cups", "Analyser sample cups (bag 1000)", "lab", 18.00, None, A, L, 0.8, "p", 0, {}),
        # ---- theatre and surgical consumables (kits and top-ups from the theatre store)
        ("gown-surgical-l", "Reinforced sterile surgical gown L", "surgical", 3.80, Y5, A, M, 0, "p", 6, {}),
        ("gown-surgical-xl", "Reinforced sterile surgical gown XL", "surgical", 3.90, Y5, A, M, 0, "p", 4, {}),
        ("drape-universal", "Universal sterile drape set", "surgical", 9.50, Y5, A, M, 0, "p", 2, {}),
        ("drape-incise", "Iodophor incise drape 60x45 cm", "surgical", 11.20, Y3, A, M, 0, "p", 1, {}),
        ("drape-extremity", "Extremity drape with stockinette", "surgical", 14.50, Y5, A, M, 0, "p", 0, {}),
        ("blade-10", "Sterile scalpel blade no. 10", "surgical", 0.12, Y5, A, M, 4, "p", 5, {}),
        ("blade-11", "Sterile scalpel blade no. 11", "surgical", 0.12, Y5, A, M, 6, "p", 5, {}),
        ("blade-15", "Sterile scalpel blade no. 15", "surgical", 0.12, Y5, A, M, 6, "p", 5, {}),
        ("blade-22", "Sterile scalpel blade no. 22", "surgical", 0.12, Y5, A, M, 0, "p", 3, {}),
        ("diathermy-pencil", "Diathermy pencil with holster", "surgical", 4.80, Y5, A, M, 0, "p", 2, {}),
        ("diathermy-pad", "Diathermy patient return electrode", "surgical", 2.10, Y3, A, M, 0, "p", 2, {}),
        ("suction-tubing", "Suction tubing 3 m", "surgical", 1.10, Y5, A, M, 0, "p", 3, {}),
        ("suture-vicryl-1", "Polyglactin 910 USP 1, 90 cm", "surgical", 4.20, Y5, A, M, 0, "p", 4, {}),
        ("suture-vicryl-2-0", "Polyglactin 910 USP 2-0, 70 cm", "surgical", 3.90, Y5, A, M, 2, "p", 4, {}),
        ("suture-vicryl-3-0", "Polyglactin 910 USP 3-0, 70 cm", "surgical", 3.70, Y5, A, M, 2, "p", 4, {}),
        ("suture-monocryl-3-0", "Poliglecaprone 25 USP 3-0, 70 cm", "surgical", 5.10, Y5, A, M, 0, "p", 3, {}),
        ("suture-pds-loop-1", "Polydioxanone loop USP 1, 150 cm", "surgical", 11.50, Y5, A, M, 0, "p", 1, {}),
        ("suture-prolene-2-0", "Polypropylene USP 2-0, 75 cm", "surgical", 5.40, Y5, A, M, 0, "p", 2, {}),
        ("suture-nylon-3-0", "Nylon USP 3-0, 45 cm", "surgical", 2.20, Y5, A, M, 10, "p", 2, {}),
        ("suture-nylon-4-0", "Nylon USP 4-0, 45 cm", "surgical", 2.20, Y5, A, M, 8, "p", 1, {}),
        ("skin-stapler", "Skin stapler, 35 wide staples", "surgical", 9.80, Y5, A, M, 1, "n", 2, {}),
        ("wound-drain-12", "Closed wound drainage system 12 Fr", "surgical", 9.50, Y5, A, M, 0, "p", 1, {}),
        ("spinal-needle-25", "Pencil-point spinal needle 25G", "surgical", 4.90, Y5, A, M, 0, "p", 1, {}),
        ("warming-blanket", "Forced-air warming blanket, full body", "surgical", 11.50, Y5, A, M, 0, "p", 3, {}),
        ("ipc-sleeves", "Intermittent pneumatic compression sleeves (pair)", "surgical", 28.00, None, A, M, 0, "p", 1, {}),
        ("skin-prep-26", "Chlorhexidine 2% skin prep applicator 26 ml", "surgical", 4.60, Y2, A, M, 0, "p", 3, {}),
        ("skin-marker", "Surgical skin marker with ruler", "surgical", 1.10, Y5, A, M, 0, "p", 2, {}),
        ("swab-xray-10", "X-ray detectable swabs 10x10 cm (pack 10)", "surgical", 1.40, Y3, A, M, 0, "p", 6, {}),
        ("swab-abdominal", "X-ray detectable abdominal swabs 45x45 cm (pack 5)", "surgical", 3.90, Y3, A, M, 0, "p", 2, {}),
        ("hemostat-oxcell", "Oxidised cellulose haemostat 5x7.5 cm", "surgical", 42.00, Y3, A, M, 0, "n", 0.8, {}),
        ("hernia-mesh-10x15", "Lightweight polypropylene mesh 10x15 cm", "surgical", 65.00, Y5, A, K, 0, "p", 0, {}),
        ("lap-trocar-12", "Laparoscopic trocar 12 mm, bladeless", "surgical", 48.00, Y5, A, K, 0, "p", 0, {}),
        ("lap-trocar-5", "Laparoscopic trocar 5 mm, bladeless", "surgical", 32.00, Y5, A, K, 0, "p", 0, {}),
        ("lap-clip-applier", "Disposable clip applier, medium-large", "surgical", 135.00, Y5, A, K, 0, "p", 0, {}),
        ("lap-retrieval-bag", "Laparoscopic specimen retrieval bag", "surgical", 28.00, Y5, A, K, 0, "p", 0, {}),
        ("insufflation-tubing", "Insufflation tubing with filter", "surgical", 12.00, Y5, A, K, 0, "p", 0, {}),
        ("vessel-sealer", "Vessel sealing device 37 cm", "surgical", 420.00, Y3, A, K, 0, "n", 0.1, {}),
        ("arthro-shaver", "Arthroscopic shaver blade 4.5 mm", "surgical", 165.00, Y5, A, K, 0, "p", 0, {}),
        ("arthro-ablation", "RF ablation wand 90 degree", "surgical", 290.00, Y3, A, K, 0, "p", 0, {}),
        ("arthro-tubing", "Arthroscopy pump tubing set", "surgical", 38.00, Y5, A, K, 0, "p", 0, {}),
        ("turp-loop", "Bipolar resection loop", "surgical", 145.00, Y5, A, K, 0, "p", 0, {}),
        ("pulse-lavage", "Pulsed lavage system with tips", "surgical", 45.00, Y3, A, K, 0, "p", 0, {}),
        ("cement-mixer", "Vacuum bone-cement mixing system", "surgical", 55.00, Y3, A, K, 0, "p", 0, {}),
        # ---- sterile procedure packs (specialist supplier: long lead time, less reliable)
        ("pack-arthroplasty", "Hip/knee arthroplasty procedure pack", "sterile-kit", 145.00, Y2, A, K, 0, "p", 0, {}),
        ("pack-laparoscopy", "Laparoscopy procedure pack", "sterile-kit", 95.00, Y2, A, K, 0, "p", 0, {}),
        ("pack-laparotomy", "Laparotomy procedure pack", "sterile-kit", 78.00, Y2, A, K, 0, "p", 0, {}),
        ("pack-caesarean", "Caesarean section procedure pack", "sterile-kit", 68.00, Y2, A, K, 0, "p", 0, {}),
        ("pack-arthroscopy", "Knee arthroscopy procedure pack", "sterile-kit", 58.00, Y2, A, K, 0, "p", 0, {}),
        ("pack-ortho-trauma", "Orthopaedic trauma procedure pack", "sterile-kit", 88.00, Y2, A, K, 0, "p", 0, {}),
        ("pack-hernia", "Hernia repair procedure pack", "sterile-kit", 52.00, Y2, A, K, 0, "p", 0, {}),
        ("pack-cystoscopy", "Cystoscopy/TURP procedure pack", "sterile-kit", 44.00, Y2, A, K, 0, "p", 0, {}),
        ("pack-minor", "Minor surgery pack", "sterile-kit", 22.00, Y2, A, K, 4, "p", 0, {}),
        # ---- orthopaedic implants (theatre store; unused implants come back)
        ("hip-stem-cemented", "Cemented femoral stem, standard offset", "implant", 950.00, Y5, A, OI, 0, "p", 0, {"return_rate": 0.03}),
        ("hip-cup-cemented", "Cemented acetabular cup", "implant", 620.00, Y5, A, OI, 0, "p", 0, {"return_rate": 0.03}),
        ("hip-head-28", "Femoral head 28 mm", "implant", 380.00, Y5, A, OI, 0, "p", 0, {"return_rate": 0.03}),
        ("knee-femoral", "Total knee femoral component", "implant", 1250.00, Y5, A, OI, 0, "p", 0, {"return_rate": 0.03}),
        ("knee-tibial-tray", "Total knee tibial tray", "implant", 820.00, Y5, A, OI, 0, "p", 0, {"return_rate": 0.03}),
        ("knee-insert", "Total knee polyethylene insert", "implant", 410.00, Y5, A, OI, 0, "p", 0, {"return_rate": 0.03}),
        ("hemi-hip-stem", "Hemiarthroplasty stem with bipolar head", "implant", 1100.00, Y5, A, OI, 0, "p", 0, {}),
        ("dhs-plate-set", "Dynamic hip screw and plate set", "implant", 480.00, Y5, A, OI, 0, "p", 0, {}),
        ("cortical-screw-4.5", "Cortical screw 4.5 mm", "implant", 24.00, Y5, A, OI, 0, "p", 0, {}),
        ("bone-cement-40", "Bone cement 40 g with gentamicin", "implant", 62.00, Y2, A, OI, 0, "p", 0, {}),
        ("k-wire-1.6", "Kirschner wire 1.6 mm", "implant", 4.50, Y5, A, OI, 0, "p", 1, {}),
    ]
    return rows


# -- procedures: surgery types with their kits (item -> units per operation) --------------------------
# id: (name, per_day, weekly, kit). per_day is the mean per day over the week.
def _procedures() -> dict[str, tuple[str, float, list[float] | None, dict[str, float]]]:
    theatre_base = {  # every general-anaesthetic case
        "glove-surg-7.0": 3, "glove-surg-7.5": 3, "glove-underglove-7.5": 2, "cap-theatre": 0.05,
        "gown-surgical-l": 2, "gown-surgical-xl": 1, "diathermy-pencil": 1, "diathermy-pad": 1,
        "suction-tubing": 1, "skin-prep-26": 1, "skin-marker": 1, "swab-xray-10": 3,
        "warming-blanket": 1, "iv-hartmann-1000": 2, "giving-set-gravity": 1, "cannula-18g": 1,
        "three-way-tap": 1, "propofol-20": 1, "fentanyl-100": 1, "ondansetron-4": 1,
        "dexamethasone-8": 1, "paracetamol-iv-1g": 1, "capno-line": 1,
    }
    gen = dict(theatre_base, **{"rocuronium-50": 1, "sugammadex-200": 0.5})
    spinal = {k: v for k, v in theatre_base.items() if k not in ("propofol-20", "capno-line")}
    spinal |= {"spinal-needle-25": 1, "bupivacaine-heavy": 1, "phenylephrine-pfs": 1, "ephedrine-30": 1}
    ortho = {"ipc-sleeves": 1, "tranexamic-1g": 2, "cefazolin-2g": 3, "drape-extremity": 1,
             "drape-incise": 1, "blade-22": 2, "blade-15": 1, "pulse-lavage": 1, "wound-drain-12": 1,
             "suture-vicryl-1": 2, "suture-vicryl-2-0": 2, "skin-stapler": 1, "dress-island-9x25": 2,
             "bandage-crepe-10": 2, "foley-14": 1, "urine-bag-2l": 1}
    lap = {"pack-laparoscopy": 1, "lap-trocar-12": 2, "lap-trocar-5": 2, "insufflation-tubing": 1,
           "lap-retrieval-bag": 1, "blade-11": 1, "suture-vicryl-1": 1, "suture-monocryl-3-0": 2,
           "skin-closure-strips": 1, "dress-island-9x10": 4, "cefazolin-2g": 1, "iv-nacl-1000": 1}
    hipfx = {"pack-ortho-trauma": 1, "drape-incise": 1, "blade-22": 1, "suture-vicryl-1": 2,
             "skin-stapler": 1, "dress-island-9x25": 2, "cefazolin-2g": 3, "tranexamic-1g": 1,
             "ipc-sleeves": 1, "foley-14": 1, "urine-bag-2l": 1}
    return {
        "hip-replacement": ("Total hip replacement (elective)", 2.2, ELECTIVE, spinal | ortho | {
            "pack-arthroplasty": 1, "hip-stem-cemented": 1, "hip-cup-cemented": 1, "hip-head-28": 1,
            "bone-cement-40": 2, "cement-mixer": 1}),
        "knee-replacement": ("Total knee replacement (elective)", 2.0, ELECTIVE, spinal | ortho | {
            "pack-arthroplasty": 1, "knee-femoral": 1, "knee-tibial-tray": 1, "knee-insert": 1,
            "bone-cement-40": 2, "cement-mixer": 1}),
        "knee-arthroscopy": ("Knee arthroscopy (day case)", 2.6, ELECTIVE, gen | {
            "pack-arthroscopy": 1, "arthro-shaver": 1, "arthro-ablation": 0.5, "arthro-tubing": 1,
            "irrig-nacl-3l": 3, "blade-11": 1, "suture-nylon-3-0": 1, "dress-island-9x10": 2,
            "bandage-crepe-10": 1, "lidocaine-1pct": 1, "cefazolin-2g": 1}),
        "lap-cholecystectomy": ("Laparoscopic cholecystectomy (elective)", 3.0, ELECTIVE, gen | lap | {
            "lap-clip-applier": 1, "vessel-sealer": 0.1}),
        "hernia-repair": ("Inguinal hernia repair with mesh (elective)", 2.5, ELECTIVE, gen | {
            "pack-hernia": 1, "hernia-mesh-10x15": 1, "blade-10": 1, "blade-15": 1,
            "suture-prolene-2-0": 2, "suture-vicryl-2-0": 1, "suture-monocryl-3-0": 1,
            "dress-island-9x10": 1, "lidocaine-1pct": 2, "cefazolin-2g": 1}),
        "cystoscopy": ("Rigid cystoscopy (elective day case)", 0.8, ELECTIVE, spinal | {
            "pack-cystoscopy": 1, "irrig-nacl-3l": 2, "gentamicin-80": 1, "cath-pack": 1}),
        "turp": ("Transurethral resection of prostate (elective)", 1.0, ELECTIVE, spinal | {
            "pack-cystoscopy": 1, "turp-loop": 1, "irrig-nacl-3l": 8, "foley-3way-20": 1,
            "urine-bag-2l": 1, "gentamicin-80": 1}),
        "caesarean-elective": ("Elective caesarean section", 1.4, ELECTIVE, spinal | {
            "pack-caesarean": 1, "blade-22": 1, "blade-10": 1, "suture-vicryl-1": 2,
            "suture-monocryl-3-0": 1, "swab-abdominal": 2, "dress-island-9x25": 1, "foley-14": 1,
            "urine-bag-2l": 1, "oxytocin-10": 2, "cefazolin-2g": 1, "cord-clamp": 1,
            "tranexamic-1g": 1, "suction-catheter-12": 1}),
        "caesarean-emergency": ("Emergency caesarean section", 1.2, EMERGENCY, spinal | {
            "pack-caesarean": 1, "blade-22": 1, "blade-10": 1, "suture-vicryl-1": 2,
            "suture-monocryl-3-0": 1, "swab-abdominal": 3, "dress-island-9x25": 1, "foley-14": 1,
            "urine-bag-2l": 1, "oxytocin-10": 3, "carboprost-250": 0.1, "cefazolin-2g": 1,
            "cord-clamp": 1, "tranexamic-1g": 1, "suction-catheter-12": 1}),
        "appendectomy": ("Laparoscopic appendicectomy (emergency)", 1.5, EMERGENCY, gen | lap | {
            "metronidazole-iv": 1, "ceftriaxone-2g": 1}),
        "emergency-laparotomy": ("Emergency laparotomy", 0.6, EMERGENCY, gen | {
            "pack-laparotomy": 1, "blade-22": 2, "blade-10": 1, "suture-pds-loop-1": 2,
            "suture-vicryl-2-0": 2, "suture-vicryl-3-0": 2, "skin-stapler": 1, "swab-abdominal": 4,
            "wound-drain-12": 1, "drape-incise": 1, "vessel-sealer": 0.4, "hemostat-oxcell": 0.5,
            "ng-tube-12": 1, "foley-14": 1, "urine-meter": 1, "art-line-kit": 1, "cvc-kit-3l": 0.5,
            "pip-taz-4.5g": 1, "iv-plasmalyte-1000": 3, "irrig-nacl-1l": 3, "fluid-warmer-set": 1}),
        "hip-fracture-dhs": ("Hip fracture fixation with dynamic hip screw", 0.8, EMERGENCY, spinal | hipfx | {
            "dhs-plate-set": 1, "cortical-screw-4.5": 4, "k-wire-1.6": 2}),
        "hip-hemiarthroplasty": ("Hip fracture hemiarthroplasty", 0.5, EMERGENCY, spinal | hipfx | {
            "hemi-hip-stem": 1, "bone-cement-40": 1, "cement-mixer": 1, "pulse-lavage": 1}),
        "minor-procedure": ("Minor surgery (excisions, abscess drainage)", 5.0, THEATRE, {
            "pack-minor": 1, "glove-surg-7.0": 1, "glove-surg-7.5": 1, "gown-surgical-l": 1,
            "blade-15": 1, "suture-nylon-4-0": 1, "suture-vicryl-3-0": 0.5, "lidocaine-1pct": 1,
            "chlorhexidine-alc-500": 0.1, "gauze-swab-st": 2, "dress-island-9x10": 1, "specimen-pot": 1}),
    }


# -- suppliers and warehouses ------------------------------------------------------------------------
SUPPLIERS = [
    {"id": "medsupply", "name": "MedSupply Distribution (main medical distributor)",
     "lead_time": {"dist": "gamma", "mean": "2d", "cv": 0.35}, "on_time": 0.95,
     "late_by": {"dist": "gamma", "mean": "1d", "cv": 0.5}, "order_cost": 12.0, "transit_time": "8h"},
    {"id": "pharmaco", "name": "PharmaCo Wholesale (pharmaceutical wholesaler)",
     "lead_time": {"dist": "lognormal", "mean": "1d", "cv": 0.3}, "on_time": 0.97,
     "late_by": {"dist": "fixed", "mean": "1d"}, "order_cost": 8.0, "transit_time": "6h"},
    {"id": "sterikit", "name": "SteriKit Medical (custom sterile packs, laparoscopic and arthroscopic disposables)",
     "lead_time": {"dist": "gamma", "mean": "7d", "cv": 0.4}, "on_time": 0.85,
     "late_by": {"dist": "gamma", "mean": "4d", "cv": 0.5},
     "partial": {"probability": 0.15, "fraction": 0.6, "rest_after": "5d"}, "order_cost": 35.0,
     "transit_time": "2d"},
    {"id": "orthoimplant", "name": "OrthoImplant Solutions (joint and trauma implants)",
     "lead_time": {"dist": "gamma", "mean": "3d", "cv": 0.25}, "on_time": 0.97, "order_cost": 25.0,
     "transit_time": "1d"},
    {"id": "labdiag", "name": "LabDiag Reagents (cold-chain laboratory supplies)",
     "lead_time": {"dist": "gamma", "mean": "4d", "cv": 0.3}, "on_time": 0.93,
     "late_by": {"dist": "gamma", "mean": "2d", "cv": 0.5}, "order_cost": 40.0, "transit_time": "1d"},
]

WAREHOUSES = [
    {"id": "central", "name": "Central store (materials management, basement level -1)",
     "position": [0.0, 0.0], "docks": 3, "pickers": 4, "counters": 2,
     "receive_time": "10min", "putaway_time": "15min", "pick_time_per_order": "5min",
     "pick_time_per_line": "40s", "ship_time": "1h",
     "scanner": {"technology": "barcode", "misread_rate": 0.002, "missed_read_rate": 0.001,
                 "count_time_per_unit": "2s", "count_time_per_location": "45s"}},
    {"id": "theatre", "name": "Theatre store (sterile services corridor, level 2)",
     "position": [120.0, 40.0], "docks": 1, "pickers": 3, "counters": 1,
     "receive_time": "10min", "putaway_time": "10min", "pick_time_per_order": "6min",
     "pick_time_per_line": "20s", "ship_time": "15min",
     "scanner": {"technology": "barcode", "misread_rate": 0.002, "missed_read_rate": 0.001,
                 "count_time_per_unit": "2s", "count_time_per_location": "45s"}},
]


# -- assembly ----------------------------------------------------------------------------------------
def _num(x: float) -> float | int:
    """Round for the file: whole numbers as int, else 2 decimals (or 3 for small rates)."""
    r = round(x, 2) if x >= 1 else round(x, 3)
    return int(r) if r == int(r) else r


def _split(total: float, shares: dict[str, float]) -> list[tuple[str, float]]:
    """Split a daily mean over wards; slow movers go to fewer wards (a real store's pattern)."""
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    keep = 6 if total >= 40 else 4 if total >= 10 else 2 if total >= 2 else 1
    ranked = ranked[:keep]
    norm = sum(s for _, s in ranked)
    return [(w, total * s / norm) for w, s in ranked]


def _stream(item: str, ward: str, mean: float, kind: str) -> dict:
    name, _every, weekly, location = CUSTOMERS[ward]
    s: dict = {"item": item, "location": location, "customer": ward}
    m = _num(mean)
    if kind == "n":
        # Over-dispersed: variance = mean + mean^2 / 2 (a negative binomial with size 2).
        sd = math.sqrt(m + m * m / 2)
        sd = round(sd + 0.005, 2)
        while sd * sd <= m:
            sd = round(sd + 0.01, 2)
        s |= {"dist": "negbin", "mean": m, "sd": sd}
    else:
        s |= {"dist": "poisson", "mean": m}
    if weekly is not None:
        s["weekly"] = weekly
    return s


def build() -> tuple[dict, dict]:
    rows = _rows()
    # A kit holds whole units; an item used in only some operations (a fractional quantity) is
    # drawn by the theatre as a top-up instead, at the same mean rate.
    kits: dict[str, tuple[str, float, list[float] | None, dict[str, float]]] = {}
    extra_topup: dict[str, float] = {}
    for pid, (name, per_day, weekly, kit) in _procedures().items():
        whole = {}
        for k, v in kit.items():
            n = math.floor(v + 1e-9)
            if n >= 1:
                whole[k] = float(n)
            if v - n > 1e-9:
                extra_topup[k] = extra_topup.get(k, 0.0) + (v - n) * per_day
        kits[pid] = (name, per_day, weekly, whole)
    items, demand = [], []
    stats = {"ward_lines": 0.0, "topup_lines": 0.0, "kit_lines": 0.0, "units": 0.0}
    for (ident, name, cat, cost, shelf, storage, supplier, ward_d, kind, theatre_d, extra) in rows:
        item: dict = {"id": ident, "name": name, "category": cat, "unit_cost": cost}
        if shelf:
            item["shelf_life"] = shelf
        if storage != "ambient":
            item["storage"] = storage
        item["supplier"] = supplier
        extra = dict(extra)
        if extra.pop("backorder_cost_factor", None):
            item["backorder_cost"] = _num(max(cost, 5.0))
        wards = extra.pop("wards", None)
        item |= extra
        items.append(item)
        if ward_d > 0:
            for ward, m in _split(ward_d, wards or SHARES[cat]):
                demand.append(_stream(ident, ward, m, kind))
                every = CUSTOMERS[ward][1]
                per = {"8h": 3, "12h": 2, "1d": 1}[every or "1d"]
                stats["ward_lines"] += per * (1 - math.exp(-m / per))
                stats["units"] += m
        theatre_d += extra_topup.pop(ident, 0.0)
        if theatre_d > 0:
            demand.append(_stream(ident, "theatre-topup", theatre_d, kind))
            stats["topup_lines"] += 2 * (1 - math.exp(-theatre_d / 2))
            stats["units"] += theatre_d
    procedures = []
    assert not extra_topup, f"kit items missing from the item table: {sorted(extra_topup)}"
    known = {r[0] for r in rows}
    used = {d["item"] for d in demand} | {k for _, _, _, kit in kits.values() for k in kit}
    assert used <= known, f"unknown items: {sorted(used - known)}"
    assert known <= used, f"items nobody uses: {sorted(known - used)}"
    for pid, (name, per_day, weekly, kit) in kits.items():
        proc: dict = {"id": pid, "location": "theatre", "customer": "theatres", "per_day": per_day}
        if weekly is not None:
            proc["weekly"] = weekly
        proc["kit"] = {k: _num(v) for k, v in kit.items()}
        procedures.append((name, proc))
        stats["kit_lines"] += per_day * len(kit)
        stats["units"] += per_day * sum(kit.values())
    customers = [{"id": c, "order_every": v[1], "#": v[0]} for c, v in CUSTOMERS.items()]
    site = {"items": items, "suppliers": SUPPLIERS, "warehouses": WAREHOUSES, "customers": customers,
            "demand": demand, "procedures": procedures}
    return site, stats


def _flow(d: dict) -> str:
    return yaml.safe_dump(d, default_flow_style=True, sort_keys=False, width=10_000, allow_unicode=True).strip()


def _wrapped(d: dict, indent: int, width: int = 110) -> str:
    """A flow mapping as a list entry, wrapped at ``width`` (continuation lines indented past the dash)."""
    parts = [_flow({k: v})[1:-1] for k, v in d.items()]
    lines, line = [], " " * indent + "- {"
    for n, part in enumerate(parts):
        piece = part + ("}" if n == len(parts) - 1 else ",")
        if len(line) + len(piece) + 1 > width and not line.endswith("{"):
            lines.append(line)
            line = " " * (indent + 3) + piece
        else:
            line += ("" if line.endswith("{") else " ") + piece
    lines.append(line)
    return "\n".join(lines)


def render(site: dict) -> str:
    out = [
        "# City hospital: consumables and surgical-kit stores (~600 beds, 10 theatres).",
        "# GENERATED by make_city_hospital.py in this folder; edit the script, not this file, and re-run:",
        "#   python scenarios/sites/make_city_hospital.py",
        "# Units are issue units (each, pack or box as named). Costs in EUR. Demand is per day.",
        "name: city-hospital",
        "description: >-",
        "  Central store serving wards by daily or twice-daily requisition, and a theatre store serving",
        "  the surgery schedule (one order per operation's kit) and theatre top-ups. Five suppliers:",
        "  the main medical distributor, a pharma wholesaler, a specialist sterile-kit supplier, an",
        "  implant supplier and a cold-chain lab-reagent supplier.",
        "",
        "suppliers:",
    ]
    for s in site["suppliers"]:
        out.append(_wrapped(s, 2))
    out += ["", "warehouses:"]
    for w in site["warehouses"]:
        out.append(_wrapped(w, 2))
    out += ["", "# Wards and other requisitioners: order_every gathers a ward's usage into one requisition.",
            "customers:"]
    for c in site["customers"]:
        entry = _flow({k: v for k, v in c.items() if v is not None and k != "#"})
        out.append(f"  - {entry:<40} # {c['#']}")
    out += ["", f"# {len(site['items'])} items.", "items:"]
    last = None
    for it in site["items"]:
        if it["category"] != last:
            out.append(f"  # {it['category']}")
            last = it["category"]
        out.append(f"  - {_flow(it)}")
    out += ["", "# Ward and theatre top-up usage: poisson for steady movers, negbin (sd^2 > mean) for erratic",
            "# ones; weekly factors (Monday first) average 1, lower at weekends.", "demand:"]
    last = None
    for d in site["demand"]:
        if d["item"] != last:
            last = d["item"]
        out.append(f"  - {_flow(d)}")
    out += ["", "# The surgery schedule: Poisson operations per day (elective lists Monday to Friday only);",
            "# each operation orders its kit from the theatre store as one order.", "procedures:"]
    for name, p in site["procedures"]:
        out.append(f"  # {name}")
        head = {k: v for k, v in p.items() if k != "kit"}
        out.append(_wrapped(head, 2)[:-1] + ",")
        # The kit, wrapped: a bill of consumables, item -> units per operation.
        kit = _wrapped(p["kit"], 5 - 2, width=108).replace("   - {", "     kit: {", 1)
        out.append(kit.replace("\n      ", "\n           ") + "}")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="print the expected daily load")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    site, stats = build()
    text = render(site)
    # The written file must read back to the same data.
    back = yaml.safe_load(text)
    assert len(back["items"]) == len(site["items"]) and len(back["procedures"]) == len(site["procedures"])
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: {len(site['items'])} items, {len(site['demand'])} demand streams, "
          f"{len(site['procedures'])} procedures, {len(site['suppliers'])} suppliers")
    if args.check:
        total = stats["ward_lines"] + stats["topup_lines"] + stats["kit_lines"]
        print(f"expected order lines/day: wards {stats['ward_lines']:.0f}, theatre top-ups "
              f"{stats['topup_lines']:.0f}, kits {stats['kit_lines']:.0f}, total {total:.0f}; "
              f"units/day {stats['units']:.0f}")


if __name__ == "__main__":
    main()
