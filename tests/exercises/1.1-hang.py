# expect: your file or the check did not finish: it ran past its time limit
while True:
    pass
