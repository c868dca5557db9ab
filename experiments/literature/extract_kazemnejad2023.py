#!/usr/bin/env python3
"""Write kazemnejad2023.json from the authors' per-run results file.

Usage: extract_kazemnejad2023.py SANITY_CHECK_JSONL COMMIT > kazemnejad2023.json

SANITY_CHECK_JSONL is results/sanity_check.jsonl of github.com/McGill-NLP/length-generalization
at COMMIT (read with `git show COMMIT:results/sanity_check.jsonl`). Every number in the output is
copied from that file unchanged; nothing is rounded, averaged or typed in. The records used are
those with job_type "best_run_seed_exp" (the three seeds of the chosen hyper-parameters); the
metric is the authors' "output_acc" (sum__pred/<split>_acc_<category>), the one their plotting
notebook (notebooks/plot_aggregate_final.ipynb) reads. Python standard library only.
"""
import json
import sys

SPLITS = {  # the authors' split name -> (posenc's name for the task, their data builder's task type)
    "rsc_tr20_ts40": ("rsc", "make_copy_dataset.py --copy_task_type repeat_single_char"),
    "rsc2x_tr20_ts40": ("rsc2x", "make_copy_dataset.py --copy_task_type repeat_single_2x_char"),
    "rdc_tr20_ts40": ("rdc", "make_copy_dataset.py --copy_task_type repeat_double_char"),
    "cmc_tr20_ts40": ("cmc", "make_copy_dataset.py --copy_task_type copy_multi_char"),
    "cmc2x_tr20_ts40": ("cmc2x", "make_copy_dataset.py --copy_task_type copy_multi_char_2x"),
    "mc_tr20_ts40": ("mc", "make_reverse_dataset.py --task_type multi_char"),
    "mc2x_tr20_ts40": ("mc2x", "make_reverse_dataset.py --task_type multi_char_2x"),
    "mcrv_tr20_ts40": ("mcrv", "make_reverse_dataset.py --task_type multi_char_rev_cop"),
}
DEFINITIONS = {
    "rsc": "copy: one symbol repeated n times; the answer repeats it n times (prompt 'Copy: x x .. x')",
    "rsc2x": "copy twice: one symbol repeated n times; the answer repeats it 2n times",
    "rdc": "repeat and change: symbol a repeated n times, the answer symbol b (b != a) repeated n times; "
           "the prompt names both ('Replace a with b in a a .. a')",
    "cmc": "copy: n symbols drawn uniformly from 100; the answer is the same n symbols",
    "cmc2x": "copy twice: n symbols drawn from 100; the answer is x [NEXT] x",
    "mc": "reverse: n symbols drawn from 100; the answer is x reversed",
    "mc2x": "reverse twice: n symbols drawn from 100; the answer is rev(x) [NEXT] rev(x)",
    "mcrv": "reverse then copy: n symbols drawn from 100; the answer is rev(x) [NEXT] x",
}
POSENC_TASKS = {  # posenc's run-config keys for each task (docs/SPEC.md §1); rsc2x has no posenc task
    "rsc": {"task.name": "repeat"},
    "rdc": {"task.name": "repeat_map"},
    "cmc": {"task.name": "copy", "task.alphabet": 100},
    "cmc2x": {"task.name": "copy_twice", "task.alphabet": 100},
    "mc": {"task.name": "reverse", "task.alphabet": 100},
    "mc2x": {"task.name": "reverse_twice", "task.alphabet": 100},
    "mcrv": {"task.name": "reverse_copy", "task.alphabet": 100},
}
ENCODINGS = {  # the authors' position_encoding_type -> (posenc's name, posenc config)
    "none": ("none", {"model.pe": "none"}),
    "t5_relative_bias": ("t5", {"model.pe": "t5"}),
    "alibi": ("alibi", {"model.pe": "alibi"}),
    "abs_sinusoid": ("sinusoidal", {"model.pe": "sinusoidal"}),
    "rotary": ("rope_quarter", {"model.pe": "rope", "model.rope_fraction": 0.25}),
}
TEST = range(21, 41)
TRAIN = range(4, 21)


def main():
    path, commit = sys.argv[1], sys.argv[2]
    runs = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    cells = {}
    recipes = set()
    for r in runs:
        if r.get("job_type") != "best_run_seed_exp":
            continue
        split = r["cfg__dataset.split"]
        task = SPLITS[split][0]
        enc = ENCODINGS[r["cfg__model.position_encoding_type"]][0]
        seed = {
            "seed": int(r["cfg__global_vars.seed"]),
            "run": r["id"],
            "beyond": r["sum__pred/test_acc_overall"],
            "by_length": [r["sum__pred/test_acc_%d" % n] for n in TEST],
            "in_range": r["sum__pred/valid_acc_overall"],
            "test_examples": r["sum__pred/test_num_samples"],
            "in_range_examples": r["sum__pred/valid_num_samples"],
        }
        cells.setdefault((task, enc), []).append(seed)
        recipe = {
            "steps": r["cfg__trainer.max_steps"],
            "batch_size": r["cfg__trainer.target_batch_size"],
            "lr": r["cfg__trainer.learning_rate"],
            "lr_schedule": r["cfg__trainer.lr_scheduler_type"],
            "warmup_ratio": r["cfg__trainer.warmup_ratio"],
            "weight_decay": r["cfg__trainer.weight_decay"],
        }
        recipes.add(json.dumps(recipe, sort_keys=True))
    if len(recipes) != 1:
        sys.exit("the records do not share one training recipe: %s" % sorted(recipes))
    task_order = [v[0] for v in SPLITS.values()]
    enc_order = [v[0] for v in ENCODINGS.values()]
    out = {
        "format": "posenc-literature-1",
        "id": "kazemnejad2023",
        "title": "The Impact of Positional Encoding on Length Generalization in Transformers",
        "authors": "Kazemnejad, Padhi, Natesan Ramamurthy, Das, Reddy",
        "year": 2023,
        "arxiv": "2305.19466",
        "source": {
            "repository": "https://github.com/McGill-NLP/length-generalization",
            "commit": commit,
            "path": "results/sanity_check.jsonl",
            "records": "job_type = best_run_seed_exp (3 seeds per task and encoding, 120 records)",
            "extracted_by": "experiments/literature/extract_kazemnejad2023.py",
            "where_in_paper": "the copy and reverse tasks of the length-generalization study; the paper's "
                              "own text could not be read here (see README.md), so its figure and table "
                              "numbers are not cited",
        },
        "protocol": {
            "model": "decoder-only T5-base layout trained from scratch "
                     "(src/models/custom_t5_decoder_only.py), about 110M trainable parameters",
            "metric": "exact_match",
            "metric_definition": "fraction of test examples whose greedy-decoded answer equals the gold "
                                 "answer (sum__pred/test_acc_overall; per length sum__pred/test_acc_<n>)",
            "train_lengths": [TRAIN.start, TRAIN.stop - 1],
            "test_lengths": [TEST.start, TEST.stop - 1],
            "beyond": "exact match over the whole test split, lengths 21..40, 500 examples each "
                      "(= the mean over the 20 lengths)",
            "in_range": "exact match on the validation split (lengths 4..20, held out from the training "
                        "examples; sum__pred/valid_acc_overall)",
            "aggregate": "per seed; the authors' notebooks aggregate the seeds by their mean "
                         "(src/common/wandb_utils.py, get_aggr_dataframe_with_mean_std)",
            "by_length": "exact match at each test length 21..40, in order (500 examples each)",
            "train": json.loads(recipes.pop()),
        },
        "encodings": {
            name: {"published": pub, "posenc": cfg}
            for pub, (name, cfg) in ENCODINGS.items()
        },
        "tasks": {
            task: {
                "published": "s2s_copy/" + split if split[0] in "rc" else "s2s_reverse/" + split,
                "definition": DEFINITIONS[task],
                "generator": "scripts/dataset_builders/" + builder,
                **({"posenc": POSENC_TASKS[task]} if task in POSENC_TASKS else {}),
            }
            for split, (task, builder) in SPLITS.items()
        },
        "cells": [
            {"task": t, "encoding": e, "seeds": sorted(cells[(t, e)], key=lambda s: s["seed"])}
            for t in task_order for e in enc_order if (t, e) in cells
        ],
    }
    out["encodings"]["rope_quarter"]["note"] = (
        "their rotary rotates int(0.25 * d_head) dimensions of each head "
        "(src/models/custom_t5_decoder_only.py, CustomT5Attention.__init__)")
    # one line per seed, so that a diff of two extractions reads cell by cell
    cells_json = out.pop("cells")
    head = json.dumps(out, indent=1)
    lines = []
    for c in cells_json:
        seeds = ",\n   ".join(json.dumps(s) for s in c["seeds"])
        lines.append('  {"task": %s, "encoding": %s, "seeds": [\n   %s]}'
                     % (json.dumps(c["task"]), json.dumps(c["encoding"]), seeds))
    sys.stdout.write(head[:-2] + ',\n "cells": [\n' + ",\n".join(lines) + "\n ]\n}\n")


if __name__ == "__main__":
    main()
