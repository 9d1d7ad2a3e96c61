"""The builder's pages: workflow list, builder, versions, runs from the builder, triggers."""
