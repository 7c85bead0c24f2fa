"""Pair construction (`zoo data construct`, `zoo data relations`): preference pairs from a policy's own images.

It sits above zoo.data (shard I/O, records, the text-relation finder), zoo.bench (prompt suites, judges) and
zoo.policy (the policy that draws): run.py is the construct command, rules.py its pairing rules, judges.py the
per-relation judges, review.py the review sheets, prompts.py the prompt files it reads, relations_command.py
`zoo data relations`.
"""
