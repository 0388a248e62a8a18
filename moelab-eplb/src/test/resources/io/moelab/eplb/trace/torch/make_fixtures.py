"""Writes the tiny torch.save fixtures next to this script, shaped as SGLang's expert-distribution dumps.

SGLang's recorder (python/sglang/srt/eplb/expert_distribution.py, ExpertDistributionRecorder.dump_record) saves, in
"stat" mode, dict(rank=0, logical_count=<int32 [passes][layers][logical experts]>,
average_utilization_rate_over_window=None or a float) as expert_distribution_recorder_<time>.pt, rank 0 only; in
"per_pass" and "per_token" mode dict(records=[...], last_physical_to_logical_map=...) per rank (see per_pass_rank1.pt).

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

# per_pass mode, one record, map [[0, 1]]: one step [[1, 2]].
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

# per_pass mode, laid out as SGLang writes it (sgl-project/sglang, python/sglang/srt/eplb/expert_distribution.py at
# 02295fe5ac5ccff3e8829800d50450351c56fb53: _DetailAccumulator.append and .dump): one dict per forward pass, its
# global_physical_count a fresh int32 [layers][physical slots] (.cpu().clone()), this rank's tokens only; then the
# last physical-to-logical map, int64 [layers][physical slots] (torch.tensor of a list). 3 layers, 4 slots, 3 logical
# experts; layer 0 dense (zero in every pass). Logical loads, by hand (slot counts summed through the map):
#   pass 1: layer 1 (map 0 1 2 1, counts 1 2 3 5) [1, 2+5, 3] = [1, 7, 3]; layer 2 (map 2 0 1 2, counts 0 4 1 0)
#           [4, 1, 0+0] = [4, 1, 0]
#   pass 2: layer 1 (counts 0 0 0 2) [0, 0+2, 0] = [0, 2, 0]; layer 2 (counts 6 0 0 1) [0, 0, 6+1] = [0, 0, 7]
slot_map = torch.tensor([[0, 1, 2, 0], [0, 1, 2, 1], [2, 0, 1, 2]])
gpc = [torch.tensor([[0, 0, 0, 0], [1, 2, 3, 5], [0, 4, 1, 0]], dtype=torch.int32),
       torch.tensor([[0, 0, 0, 0], [0, 0, 0, 2], [6, 0, 0, 1]], dtype=torch.int32)]
save("per_pass_rank1.pt", dict(records=[dict(forward_pass_id=i + 1, rank=1, gatherer_key="primary",
                                             global_physical_count=c.clone()) for i, c in enumerate(gpc)],
                               last_physical_to_logical_map=slot_map))
# The same without its map (nothing makes the slots logical).
save("per_pass_no_map.pt", dict(records=[dict(forward_pass_id=1, rank=0, gatherer_key="primary",
                                              global_physical_count=gpc[0].clone())]))

# per_token mode (_DetailSinglePassGatherer.collect at the same commit): each record adds the pass's token ids,
# positions, extend_seq_lens, forward_mode, topk_ids_of_layer [layers][tokens][8] and misc_objects to the same keys;
# global_physical_count is counted from topk_ids_of_layer (physical slot ids, -1 for none). One pass of two tokens on
# per_pass_rank1.pt's map, slots chosen to give its first pass's counts.
topk = torch.full((3, 2, 8), -1, dtype=torch.int32)
topk[1, 0, :6] = torch.tensor([0, 1, 1, 2, 2, 2])
topk[1, 1, :5] = torch.tensor([3, 3, 3, 3, 3])
topk[2, 0, :5] = torch.tensor([1, 1, 1, 1, 2])
counts = torch.zeros((3, 4), dtype=torch.int32)
for layer in range(3):
    for slot in topk[layer].flatten().tolist():
        if slot != -1:
            counts[layer, slot] += 1
assert counts.equal(gpc[0])
save("per_token.pt", dict(records=[dict(forward_pass_id=7, rank=0, gatherer_key="primary", input_ids=[11, 12],
                                        positions=[0, 1], extend_seq_lens=[2], forward_mode=1,
                                        topk_ids_of_layer=topk.clone(), misc_objects=[],
                                        global_physical_count=counts)],
                          last_physical_to_logical_map=slot_map))

# One per_pass dump of three ranks (ranks/), as SGLang writes it: every rank saves its own records and the map as
# expert_distribution_recorder_<time.time()>_<rank>.pt into one directory. The MoE layers run collectively, so every
# rank records the same forward passes (ids 5, 6, 7 here, an idle pass counting nothing on some ranks); each rank's
# counts are its own tokens', over the slots of all ranks. 3 layers, 6 slots (2 a rank), 4 logical experts; layer 0
# zero on every rank, layer 2 zero on ranks 0 and 2 in every pass but not on rank 1 (kept in the sum).
rank_map = torch.tensor([[0, 1, 2, 3, 0, 1], [0, 1, 2, 3, 3, 2], [3, 2, 1, 0, 0, 1]])
Z = [0, 0, 0, 0, 0, 0]
rank_counts = [  # [rank][pass] -> [layer][slot]
    [[Z, [1, 0, 2, 0, 0, 1], Z], [Z, [0, 3, 0, 0, 2, 0], Z], [Z, Z, Z]],
    [[Z, [0, 0, 0, 1, 0, 0], [0, 0, 0, 2, 1, 0]], [Z, Z, [1, 0, 0, 0, 0, 0]], [Z, [2, 0, 0, 0, 0, 0], Z]],
    [[Z, [0, 1, 0, 0, 0, 0], Z], [Z, [0, 0, 0, 0, 0, 4], Z], [Z, [0, 0, 1, 0, 1, 0], [0, 0, 0, 0, 0, 3]]],
]
# Summed over the ranks, then each slot added to the expert the map names (layer 0 dropped):
#   pass 5: layer 1 slots [1,0,2,0,0,1]+[0,0,0,1,0,0]+[0,1,0,0,0,0] = [1,1,2,1,0,1], map 0 1 2 3 3 2 -> [1, 1, 2+1, 1+0]
#           = [1, 1, 3, 1]; layer 2 slots [0,0,0,2,1,0], map 3 2 1 0 0 1 -> [2+1, 0, 0, 0] = [3, 0, 0, 0]
#   pass 6: layer 1 [0,3,0,0,2,0]+[0,0,0,0,0,4] = [0,3,0,0,2,4] -> [0, 3, 0+4, 0+2] = [0, 3, 4, 2]; layer 2
#           [1,0,0,0,0,0] -> slot 0 is expert 3: [0, 0, 0, 1]
#   pass 7: layer 1 [2,0,0,0,0,0]+[0,0,1,0,1,0] = [2,0,1,0,1,0] -> [2, 0, 1+0, 0+1] = [2, 0, 1, 1]; layer 2
#           [0,0,0,0,0,3] -> slot 5 is expert 1: [0, 3, 0, 0]
RANKS_EXPECTED = [[[1, 1, 3, 1], [3, 0, 0, 0]], [[0, 3, 4, 2], [0, 0, 0, 1]], [[2, 0, 1, 1], [0, 3, 0, 0]]]


def rank_dump(rank, counts, pass_ids=(5, 6, 7), slot_map=rank_map):
    return dict(records=[dict(forward_pass_id=i, rank=rank, gatherer_key="primary",
                              global_physical_count=torch.tensor(c, dtype=torch.int32).clone())
                         for i, c in zip(pass_ids, counts)],
                last_physical_to_logical_map=slot_map)


summed = torch.tensor(rank_counts, dtype=torch.int32).sum(0)  # [pass][layer][slot]
logical = torch.zeros((3, 3, 4), dtype=summed.dtype)
logical.scatter_add_(2, rank_map.unsqueeze(0).expand(3, -1, -1), summed)
assert logical[:, 1:].tolist() == RANKS_EXPECTED
os.makedirs(os.path.join(HERE, "ranks"), exist_ok=True)
for r in range(3):
    save("ranks/expert_distribution_recorder_1718000000.25_%d.pt" % r, rank_dump(r, rank_counts[r]))
# Rank 1's file as it would differ: another map (slots 4 and 5 of layer 1 swapped), other pass ids, one pass less.
other_map = rank_map.clone()
other_map[1, 4], other_map[1, 5] = 2, 3
os.makedirs(os.path.join(HERE, "ranks_other"), exist_ok=True)
save("ranks_other/other_map_1.pt", rank_dump(1, rank_counts[1], slot_map=other_map))
save("ranks_other/other_passes_1.pt", rank_dump(1, rank_counts[1], pass_ids=(5, 6, 8)))
save("ranks_other/fewer_passes_1.pt", rank_dump(1, rank_counts[1][:2], pass_ids=(5, 6)))
