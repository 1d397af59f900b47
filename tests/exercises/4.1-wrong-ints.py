# expect: fadd's + is BINARY_OP_ADD_INT, not BINARY_OP_ADD_FLOAT
def fadd(a, b):
    return a + b


for i in range(1000):
    fadd(i, 1)
