"""Reference geography every user may read: the base map, boundary sets
and their import, the cell lattice, the police.uk layer, and the map page."""
