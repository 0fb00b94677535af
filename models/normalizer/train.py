# SPDX-License-Identifier: MIT
"""Trains the normalizer's classifier and exports it to ONNX (`npm run train:normalizer`).

    data/train.jsonl ──features.py──► 0/1 vectors ──LogisticRegression──► model.onnx + model.json

The classifier maps a (kind, field name, sample values) feature vector to `canonical|unit` (the field
and the unit its values are in) or `none`; the runtime sums a field's probabilities over its units for
its confidence (processors/normalize/decide.ts). The held-out split (data/heldout.jsonl) is never read
here: `npm run eval:normalizer` scores it, and TMIDB_NORMALIZE_AUTO_MIN is chosen from that evaluation.
"""
import hashlib
import json
import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import features  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
C = 10.0


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def classifier():
    return LogisticRegression(C=C, max_iter=3000, tol=1e-5)


def main():
    rows = load(os.path.join(HERE, "data", "train.jsonl"))
    X = features.feature_matrix([(r["kind"], r["name"], r["values"]) for r in rows])
    y = np.array([r["label"] for r in rows])
    print("training rows: %d, labels: %d, features: %d" % (len(rows), len(set(y)), X.shape[1]))

    clf = classifier().fit(X, y)
    print("fitted: training accuracy %.2f %%" % (100 * float((clf.predict(X) == y).mean())))
    export(clf, len(rows))
    return 0


def export(clf, rows):
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    onx = to_onnx(
        clf,
        initial_types=[("features", FloatTensorType([None, features.FEATURE_COUNT]))],
        options={id(clf): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    onx.doc_string = "tmiDB normalizer: (kind, field name, sample values) features -> canonical|unit or none"
    data = onx.SerializeToString()
    path = os.path.join(HERE, "model.onnx")
    with open(path, "wb") as f:
        f.write(data)
    sha = hashlib.sha256(data).hexdigest()
    meta = {
        "name": "tmidb-normalizer",
        "version": "1." + sha[:12],
        "sha256": sha,
        "file": "model.onnx",
        "bytes": len(data),
        "features": {"version": features.FEATURE_VERSION, "count": features.FEATURE_COUNT},
        "input": "features",
        "output": "probabilities",
        "labels": [str(c) for c in clf.classes_],
        "trainingRows": rows,
        "classifier": "scikit-learn LogisticRegression(C=%s), exported with skl2onnx" % C,
    }
    with open(os.path.join(HERE, "model.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote %s (%d bytes, sha256 %s) and model.json" % (path, len(data), sha))


if __name__ == "__main__":
    sys.exit(main())
