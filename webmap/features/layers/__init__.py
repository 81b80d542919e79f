"""Trend layers of an agency's own records: cells, change, emerging hot
spots, heatmap, vector tiles, and the panel page."""
