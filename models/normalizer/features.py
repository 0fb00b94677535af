# SPDX-License-Identifier: MIT
"""The normalizer's feature extraction, in Python for training: a line-for-line twin of
processors/normalize/features.ts (read its header for the algorithm). feature-cases.json holds cases
both implementations must reproduce exactly:

    .venv/bin/python models/normalizer/features.py --check models/normalizer/feature-cases.json
    .venv/bin/python models/normalizer/features.py --write models/normalizer/feature-cases.json
"""
import json
import math
import re
import sys
import unicodedata

FEATURE_VERSION = "tmidb-normalizer-features/1"
FEATURE_COUNT = 4096
DENSE_COUNT = 32
SAMPLE_VALUES_MAX = 16

UNIT_ALIASES = {
    "c": "C", "°c": "C", "degc": "C", "celsius": "C", "섭씨": "C",
    "f": "F", "°f": "F", "degf": "F", "fahrenheit": "F", "화씨": "F",
    "k": "K", "kelvin": "K",
    "hpa": "hPa", "mbar": "mbar", "mb": "mbar", "pa": "Pa", "kpa": "kPa", "bar": "bar", "psi": "psi", "inhg": "inHg",
    "m": "m", "meter": "m", "meters": "m", "metres": "m", "ft": "ft", "feet": "ft", "km": "km", "mi": "mi", "miles": "mi",
    "kmh": "km/h", "kph": "km/h", "mph": "mph", "ms": "m/s", "mps": "m/s", "kn": "kn", "kt": "kn", "kts": "kn", "knots": "kn",
    "v": "V", "volt": "V", "volts": "V", "mv": "mV", "a": "A", "amp": "A", "amps": "A", "ma": "mA",
    "millivolt": "mV", "milliamp": "mA", "millibar": "mbar", "kilowatt": "kW",
    "w": "W", "watt": "W", "watts": "W", "kw": "kW", "kwh": "kWh", "wh": "Wh", "mwh": "MWh",
    "mm": "mm", "in": "in", "inch": "in", "inches": "in",
    "%": "%", "pct": "%", "percent": "%", "ratio": "fraction", "frac": "fraction", "fraction": "fraction",
    "ppm": "ppm", "db": "dB", "dba": "dB", "dbm": "dBm", "bpm": "bpm", "lux": "lux", "lx": "lux", "deg": "deg", "°": "deg",
    "rpm": "rpm",
}

BOOLEAN_WORDS = {"on", "off", "open", "closed", "true", "false", "yes", "no", "열림", "닫힘"}
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$", re.ASCII)
IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$", re.ASCII)
SERIAL = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]+$", re.ASCII)
WORD = re.compile(r"^[a-z_]+$", re.ASCII)


def class_of(ch):
    cp = ord(ch)
    if 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F or 0xAC00 <= cp <= 0xD7A3:
        return "hangul"
    if 0x41 <= cp <= 0x5A:
        return "capital"
    if ch in ("%", "°"):
        return "sign"
    if ch.isalpha():
        return "letter"
    if unicodedata.category(ch) == "Nd":
        return "digit"
    return "separator"


def is_ascii_lower(ch):
    return ch is not None and "a" <= ch <= "z"


def tokens_of(name):
    chars = list(unicodedata.normalize("NFKC", name))
    tokens = []
    current = ""
    previous = "separator"
    for i, ch in enumerate(chars):
        cls = class_of(ch)
        if cls in ("separator", "sign"):
            if current:
                tokens.append(current.lower())
            current = ""
            if cls == "sign":
                tokens.append(ch)
            previous = cls
            continue
        hangul_change = current != "" and ((cls == "hangul") != (previous == "hangul"))
        camel = cls == "capital" and previous in ("letter", "digit")
        nxt = chars[i + 1] if i + 1 < len(chars) else None
        acronym_end = cls == "capital" and previous == "capital" and is_ascii_lower(nxt)
        if hangul_change or camel or acronym_end:
            if current:
                tokens.append(current.lower())
            current = ""
        current += ch
        previous = cls
    if current:
        tokens.append(current.lower())
    return tokens


def unit_features(tokens):
    out = []
    last = len(tokens) - 1
    for i, t in enumerate(tokens):
        single = UNIT_ALIASES.get(t)
        if single is not None:
            out.append("u:" + single)
            if i == last:
                out.append("ul:" + single)
        if i < last:
            glued = UNIT_ALIASES.get(t + tokens[i + 1])
            if glued is not None:
                out.append("u:" + glued)
                if i + 1 == last:
                    out.append("ul:" + glued)
    return out


def feature_strings(kind, name):
    tokens = tokens_of(name)
    out = []
    for i, t in enumerate(tokens):
        out.append("t:" + t)
        if i + 1 < len(tokens):
            out.append("b:" + t + "|" + tokens[i + 1])
        for ch in t:
            if class_of(ch) == "hangul":
                out.append("hs:" + ch)
    if tokens:
        out.append("f:" + tokens[0])
        out.append("l:" + tokens[-1])
    joined = list("<" + " ".join(tokens) + ">")
    for n in (3, 4):
        for i in range(0, len(joined) - n + 1):
            out.append("c%d:%s" % (n, "".join(joined[i:i + n])))
    out.extend(unit_features(tokens))
    for t in tokens_of(kind):
        out.append("k:" + t)
    return out


def fnv1a32(text):
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def number_slots(xs):
    slots = []
    if all(float(x).is_integer() for x in xs):
        slots.append(5)
    if all(0 <= x <= 1 for x in xs):
        slots.append(6)
    if all(abs(x) <= 90 for x in xs):
        slots.append(7)
    if all(abs(x) <= 180 for x in xs):
        slots.append(8)
    if any(x < 0 for x in xs):
        slots.append(9)
    if all(0 <= x <= 100 for x in xs):
        slots.append(10)
    if all(x == 0 or x == 1 for x in xs):
        slots.append(11)
    ordered = sorted(abs(float(x)) for x in xs)
    median = ordered[(len(ordered) - 1) // 2]
    bounds = [1, 10, 100, 1000, 10_000, 1_000_000]
    bin_ = next((i for i, b in enumerate(bounds) if median < b), len(bounds))
    slots.append(12 + bin_)
    if len(xs) >= 2 and min(xs) == max(xs):
        slots.append(19)
    if all(180 <= x <= 350 for x in xs):
        slots.append(20)
    if all(850 <= x <= 1100 for x in xs):
        slots.append(21)
    if all(0 <= x <= 360 for x in xs):
        slots.append(22)
    if any(float(x) != math.trunc(float(x) * 1000) / 1000 for x in xs):
        slots.append(23)
    return slots


def string_slots(ss):
    slots = []
    if all(DECIMAL.match(s) for s in ss):
        slots.append(24)
    if all(len(s) <= 16 for s in ss):
        slots.append(25)
    if all(s.lower() in BOOLEAN_WORDS for s in ss):
        slots.append(26)
    if any(IP.match(s) for s in ss):
        slots.append(27)
    if any(SERIAL.match(s) for s in ss):
        slots.append(28)
    if all(WORD.match(s) for s in ss):
        slots.append(29)
    return slots


def value_slots(values):
    sample = [v for v in values if v is not None][:SAMPLE_VALUES_MAX]
    if not sample:
        return [0]
    if all(is_number(v) for v in sample):
        return [1] + number_slots(sample)
    if all(isinstance(v, bool) for v in sample):
        return [2]
    if all(isinstance(v, str) for v in sample):
        return [3] + string_slots(sample)
    return [4]


def active_features(kind, name, values):
    active = set(value_slots(values))
    for s in feature_strings(kind, name):
        active.add(DENSE_COUNT + fnv1a32(s) % (FEATURE_COUNT - DENSE_COUNT))
    return sorted(active)


def feature_matrix(rows):
    """rows: (kind, name, values) triples → a scipy CSR matrix of 0/1 float32."""
    import numpy as np
    from scipy.sparse import csr_matrix

    indptr, indices = [0], []
    for kind, name, values in rows:
        indices.extend(active_features(kind, name, values))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    return csr_matrix((data, indices, indptr), shape=(len(rows), FEATURE_COUNT), dtype=np.float32)


CASE_INPUTS = [
    ("weather", "온도", [21, 22.5]),
    ("weather", "Temperature (°C)", [21.5]),
    ("car", "tempF", [70.2, 71]),
    ("car", "HTTPServerTemp", []),
    ("station", "outdoor_air_temp_c", [-3.25, 0.5]),
    ("station", "sensor.humidity", [0.41, 0.43]),
    ("station", "humidity %", [41, 43]),
    ("", "습도(%)", [55]),
    ("tracker", "Latitude", [37.5665, 37.5671]),
    ("tracker", "lon", [126.978]),
    ("tracker", "speed_km/h", [50, 60]),
    ("tracker", "wind speed (m/s)", [3.2]),
    ("meter", "energy_Wh", [12000, 12500]),
    ("meter", "pressure_kPa", [101.3]),
    ("meter", "press_inHg", [29.92]),
    ("door", "door_open", [True, False]),
    ("door", "doorState", ["open", "closed"]),
    ("device", "serial_no", ["SN-12345"]),
    ("device", "firmware", ["1.2.3"]),
    ("device", "ip", ["10.0.0.1"]),
    ("device", "비고", ["점검 필요"]),
    ("device", "owner", ["kim"]),
    ("device", "status", ["ok", "idle"]),
    ("device", "🌡️ temp ℃", [20]),
    ("device", "PM2.5", [12]),
    ("device", "pm25Value", [12, 13]),
    ("device", "CO2_ppm", [450, 800]),
    ("device", "x", [None, 1e7, -2]),
    ("device", "mixed", [1, "a"]),
    ("device", "nested", [{"a": 1}]),
    ("device", "HeartRateBPM", [72, 75]),
    ("device", "batteryRatio", [0.5, 0.51]),
    ("device", "Ümlaut Über", [1.23456]),
    ("device", "a.b c-d_e", [0, 1, 1]),
    ("device", "__", []),
]


def cases():
    out = []
    for kind, name, values in CASE_INPUTS:
        out.append({"kind": kind, "name": name, "values": values,
                    "tokens": tokens_of(name), "active": active_features(kind, name, values)})
    hashes = [{"text": t, "fnv1a32": fnv1a32(t)} for t in ["", "a", "t:온도", "c3:<te", "u:°"]]
    return {"version": FEATURE_VERSION, "featureCount": FEATURE_COUNT, "cases": out, "hashes": hashes}


def main(argv):
    if len(argv) == 3 and argv[1] == "--write":
        with open(argv[2], "w", encoding="utf-8") as f:
            json.dump(cases(), f, ensure_ascii=False, indent=1)
            f.write("\n")
        return 0
    if len(argv) == 3 and argv[1] == "--check":
        with open(argv[2], encoding="utf-8") as f:
            expected = json.load(f)
        bad = 0
        for case in expected["cases"]:
            got = active_features(case["kind"], case["name"], case["values"])
            if got != case["active"] or tokens_of(case["name"]) != case["tokens"]:
                bad += 1
                print("MISMATCH %r: tokens %r, %d features differ" % (
                    case["name"], tokens_of(case["name"]), len(set(got) ^ set(case["active"]))))
        for h in expected["hashes"]:
            if fnv1a32(h["text"]) != h["fnv1a32"]:
                bad += 1
                print("MISMATCH hash of %r" % h["text"])
        print("%d cases, %d mismatches" % (len(expected["cases"]) + len(expected["hashes"]), bad))
        return 1 if bad else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
