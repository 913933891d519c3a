"""`lifecycle`: the operators' command line. Each group lives in its own module; `app` assembles them."""
