"""Briefing packs: a tier C share plus wording, its approval, rendering,
self-inspection and downloads."""
