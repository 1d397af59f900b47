# expect: x in expr is not a literal
expr = "x + 1"
reason = "raises"
