"""Plants declared from units and media-network nodes, composed into one equation model."""
