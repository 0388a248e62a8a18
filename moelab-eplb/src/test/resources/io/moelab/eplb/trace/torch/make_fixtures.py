"""Writes the tiny torch.save fixtures next to this script, shaped as SGLang's expert-distribution dumps.

SGLang's recorder (python/sglang/srt/eplb/expert_distribution.py, ExpertDistributionRecorder.dump_record) saves, in
"stat" mode, dict(rank=0, logical_count=<int32 [passes][layers][logical experts]>,
average_utilization_rate_over_window=None or a float) as expert_distribution_recorder_<time>.pt, rank 0 only; in
"per_pass" and "per_token" mode dict(records=[...], last_physical_to_logical_map=...) per rank, which moelab refuses.

Regenerate (the committed files came from Debian's python3-torch 1.13.1; a newer torch changes some bytes but not
what the tests read):
    apt-get install -y python3-torch
    cd moelab-eplb/src/test/resources/io/moelab/eplb/trace/torch && python3 make_fixtures.py

torch 1.13 writes no "byteorder" record; torch 2.x writes one ("little"). byteorder_little.pt and byteorder_big.pt
are stat_int32.pt with that record added by rewriting the zip (add_record below): the same layout otherwise.
"""
import os
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, obj):
    torch.save(obj, os.path.join(HERE, name))


def add_record(src, dst, record, data):
    """Copies the zip src to dst with one more stored entry <archive>/<record>, as torch 2.x adds byteorder."""
    with zipfile.ZipFile(os.path.join(HERE, src)) as zin, \
            zipfile.ZipFile(os.path.join(HERE, dst), "w", zipfile.ZIP_STORED) as zout:
        names = zin.namelist()
        prefix = names[0].split("/")[0]
        for n in names:
            zout.writestr(zin.getinfo(n), zin.read(n))
        zout.writestr(prefix + "/" + record, data)


# stat mode: [passes][layers][experts] int32; layers 0 and 3 zero in every pass (dense layers, dropped).
passes = torch.tensor([
    [[0, 0, 0], [1, 2, 3], [0, 0, 0], [0, 0, 0]],
    [[0, 0, 0], [4, 0, 6], [7, 0, 0], [0, 0, 0]],
], dtype=torch.int32)
save("stat_int32.pt", dict(rank=0, logical_count=passes, average_utilization_rate_over_window=None))

# One aggregate [layers][experts] step, int64, with a float and a string beside it; layer 1 dense.
save("aggregate_int64.pt", dict(rank=3, logical_count=torch.tensor([[5, 0, 2 ** 40], [0, 0, 0]]),
                                average_utilization_rate_over_window=0.75, note="x"))

# float32 counts as a view: offset 12 into a 60-element storage, layers and experts transposed (strides 12, 1, 4).
# Element [s][l][e] is 12 * (s + 1) + 4 * e + l.
base = torch.arange(60, dtype=torch.float32).reshape(5, 3, 4)
view = base[1:4].transpose(1, 2)
assert view.storage_offset() == 12 and view.stride() == (12, 1, 4) and not view.is_contiguous()
save("view_float32.pt", dict(logical_count=view))

# float64 under the "counts" key, one step.
save("counts_float64.pt", {"counts": torch.tensor([[0.5, 125.0]], dtype=torch.float64)})

# per_pass mode: records of physical counts per rank, not read.
save("per_pass.pt", dict(records=[dict(forward_pass_id=1, rank=0, gatherer_key="primary",
                                       global_physical_count=torch.tensor([[1, 2]], dtype=torch.int32))],
                         last_physical_to_logical_map=torch.tensor([[0, 1]])))

# Bad loads and types.
save("nan_float32.pt", dict(logical_count=torch.tensor([[[1.0, 2.0]], [[3.0, float("nan")]]])))
save("negative_int32.pt", dict(logical_count=torch.tensor([[1, -1]], dtype=torch.int32)))
save("half.pt", dict(logical_count=torch.tensor([[1, 2]], dtype=torch.float16)))
save("zero.pt", dict(logical_count=torch.zeros(2, 3, dtype=torch.int32)))
save("one_dim.pt", dict(logical_count=torch.tensor([1, 2], dtype=torch.int32)))
save("list.pt", dict(logical_count=[[1, 2]]))

add_record("stat_int32.pt", "byteorder_little.pt", "byteorder", "little")
add_record("stat_int32.pt", "byteorder_big.pt", "byteorder", "big")
