"""Writes the protocol-2 pickles next to this script that TorchPickleTest reads: Python's own pickle module writes
them, so the reader is checked against the format's reference writer, not against bytes built by the same hand.

    cd moelab-eplb/src/test/resources/io/moelab/eplb/trace/torch/pickle && python3 make_pickles.py

atoms.pkl: every opcode for numbers, floats, bools, None, strings and tuples that protocol 2 writes (BININT1,
BININT2, BININT, LONG1 of 5, 6 and 8 bytes, BINFLOAT, NEWTRUE, NEWFALSE, NONE, EMPTY_TUPLE, TUPLE1-3, TUPLE).
memo.pkl: a string got again (BINGET) after each opcode that has operands, and, past 256 memo entries, LONG_BINPUT
and LONG_BINGET. records.pkl: a dump-like dict whose 1,200 records Python appends in batches of 1,000 (APPENDS),
their keys got again from the memo.
"""
import os
import pickle

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, obj):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(pickle.dumps(obj, protocol=2))


save("atoms.pkl", {
    "ints": [0, 1, 255, 256, 65535, 65536, -1, -129, 2**31 - 1, -2**31, 2**31, -2**31 - 1, 2**40, -2**40,
             2**63 - 1, -2**63],
    "floats": [0.5, -1e300, 1.0],
    "b": [True, False, None],
    "t": ((), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)),
})

s = "shared"
many = ["k%d" % i for i in range(300)]
save("memo.pkl", [s, 0.5, s, 2**40, s, 300, s, 70000, s, "xyz", s, True, s, (1, 2), s, many, many[0], many[299], -5,
                  many[299], (s, 7)])

save("records.pkl", {"records": [{"rank": 0, "forward_pass_id": i, "share": 0.25 * i, "ids": [i, i + 1]}
                                 for i in range(1200)], "tail": "end"})
