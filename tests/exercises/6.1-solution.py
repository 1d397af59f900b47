# expect: solved
expr = "1 / 0"
reason = "raises"
