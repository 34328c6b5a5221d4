"""Routes grouped by actor, so authentication can attach per group."""
