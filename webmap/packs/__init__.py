"""Briefing packs: printable and offline maps for bus companies, taxi firms and hotels.

Packs are built only from tier C published data (coarse cells with banded or rounded counts
per quarter, named public places, routes). Rendering is pure and needs no database:
:mod:`webmap.packs.content` holds what a pack says, :mod:`webmap.packs.mapimage` draws its map
as a raster, :mod:`webmap.packs.render` makes the PDF and the offline HTML, and
:mod:`webmap.packs.inspect` checks the result before anyone is given it.
"""
