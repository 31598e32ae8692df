"""The wards a deployment serves: which OA is which ward, and what each ward offers.

A ward is an Official Account id plus a ward profile (app.catalogue.models.WardProfile) and the
procedures it offers: the shared catalogue minus what it hides plus its own. With ward files in
the catalogue (`wards/<slug>.yaml`, WARDBOT_WARDS) there is one ward per file; without them,
the single ward of procedures.yaml's `ward:` section, on ZALO_OA_ID (today's deployment).

Pure domain: no FastAPI, httpx, SQLModel or environment.
"""

from app.wards.registry import DEFAULT_SLUG, Ward, Wards, wards_of

__all__ = ["DEFAULT_SLUG", "Ward", "Wards", "wards_of"]
