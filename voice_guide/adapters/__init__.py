"""One module per engine; each imports its engine lazily and turns its failures into our errors."""
