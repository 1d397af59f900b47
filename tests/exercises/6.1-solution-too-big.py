# expect: solved
expr = "2 ** 200"
reason = "too big"
