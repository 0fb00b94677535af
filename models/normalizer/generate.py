# SPDX-License-Identifier: MIT
"""Writes the normalizer's training set (data/train.jsonl) and its held-out split (data/heldout.jsonl).

Names are composed from base words (English, Korean, abbreviations), prefixes (`outdoor_`, `sensor.`),
unit suffixes (`F`, ` (°C)`, `_kPa`) and case styles (snake, camel, Pascal, kebab, dotted, spaced,
UPPER), with sample values drawn from the unit's usual range. Words, prefixes and unit spellings marked
`!` go only to the held-out split, so the evaluation measures names the model never saw. Fields that
must not be mapped (`serial_no`, `firmware`, `비고`, `owner`, `ip` …) are labelled `none`.
Deterministic (seeded): `npm run train:normalizer` regenerates the same files.
"""
import json
import os
import random
import sys

SEED = 20261125
ROWS_PER_LABEL = 160
HELDOUT_ROWS_PER_LABEL = 50

# canonical → (words, {unit: (suffixes, (low, high), integer?)})
# A suffix list entry "" means "no unit in the name" (the values tell).
U = {
    "C": (["", "c", "°C", "degC", "celsius", "!deg c", "!℃"], (-20, 45), False),
    "F": (["f", "°F", "degF", "fahrenheit", "!deg f", "!℉"], (10, 110), False),
    "K": (["k", "kelvin", "", "!degK"], (255, 320), False),
    "%": (["", "%", "pct", "percent", "!perc", "!percentage"], (0, 100), False),
    "fraction": (["", "ratio", "frac", "!fraction"], (0, 1), False),
    "hPa": (["", "hPa", "!hectopascal"], (960, 1045), False),
    "Pa": (["Pa", "", "!pascal"], (96000, 104500), False),
    "kPa": (["kPa", "!kpascal"], (95, 105), False),
    "mbar": (["mbar", "mb", "millibar", "!mbars"], (960, 1045), False),
    "bar": (["bar", "!bars"], (0.9, 3.5), False),
    "psi": (["psi", "!lbf in2"], (14, 45), False),
    "inHg": (["inHg", "!in hg"], (28.5, 31), False),
    "deg": (["", "deg", "°", "!degrees"], None, False),
    "m": (["", "m", "meters", "!metres"], (0, 3000), False),
    "ft": (["ft", "feet", "!foot"], (0, 10000), False),
    "km": (["", "km", "!kilometers"], (0, 300000), False),
    "mi": (["mi", "miles", "!mile"], (0, 200000), False),
    "km/h": (["", "kmh", "km/h", "kph", "!kmph"], (0, 130), False),
    "mph": (["mph", "!mi h"], (0, 80), False),
    "m/s": (["", "m/s", "mps", "ms", "!m s"], (0, 35), False),
    "kn": (["kn", "knots", "kts", "!kt"], (0, 60), False),
    "V": (["", "v", "volt", "volts", "!vdc"], (3, 240), False),
    "mV": (["mV", "millivolt", "!mvolt"], (3000, 4200), True),
    "A": (["", "a", "amp", "amps", "!ampere"], (0, 30), False),
    "mA": (["mA", "milliamp", "!mamp"], (0, 2000), True),
    "W": (["", "w", "watt", "watts", "!watts total"], (0, 3000), False),
    "kW": (["kW", "kilowatt", "!kwatt"], (0, 50), False),
    "kWh": (["", "kWh", "!kwhr"], (0, 20000), False),
    "Wh": (["Wh", "!watt hour"], (0, 2000000), True),
    "MWh": (["MWh", "!megawatt hour"], (0, 50), False),
    "ppm": (["", "ppm", "!ppmv"], (400, 2500), True),
    "ug/m3": (["", "ugm3", "ug/m3", "!µg/m³"], (0, 150), True),
    "dB": (["", "db", "dBA", "!decibel"], (30, 100), False),
    "dBm": (["", "dbm", "!dBm level"], (-120, -30), True),
    "bpm": (["", "bpm", "!beats"], (45, 180), True),
    "count": ([""], (0, 20000), True),
    "rpm": (["", "rpm", "!r/min"], (600, 6500), True),
    "bool": ([""], None, False),
    "lux": (["", "lux", "lx", "!lumen"], (0, 80000), False),
    "mm": (["", "mm", "!millimeters"], (0, 60), False),
    "in": (["in", "inch", "inches", "!inchs"], (0, 2.5), False),
    "text": ([""], None, False),
}

CANON = {
    "temperature": (["temperature", "temp", "tmp", "air temp", "air temperature", "water temp", "thermo",
                     "!ambient temp", "!temperatur", "!tempr", "온도", "기온", "수온", "!실내 온도", "!온도값"],
                    ["C", "F", "K"]),
    "humidity": (["humidity", "hum", "humid", "rh", "relative humidity", "hmdt", "!rel hum", "!humidity level",
                  "습도", "!상대 습도", "!습도값"], ["%", "fraction"]),
    "pressure": (["pressure", "press", "pres", "baro", "barometer", "barometric pressure", "air pressure",
                  "tire pressure", "!atm pressure", "!prs", "!tyre pressure", "기압", "압력", "!대기압"],
                 ["hPa", "Pa", "kPa", "mbar", "bar", "psi", "inHg"]),
    "lat": (["lat", "latitude", "gps lat", "!lati", "!gps latitude", "위도", "!위도값"], ["deg"]),
    "lon": (["lon", "lng", "long", "longitude", "gps lon", "!gps lng", "!longitude deg", "경도", "!경도값"], ["deg"]),
    "alt": (["alt", "altitude", "elevation", "gps alt", "!elev", "!height asl", "고도", "!해발 고도"], ["m", "ft"]),
    "speed": (["speed", "spd", "velocity", "ground speed", "vehicle speed", "!vel", "!veh speed", "속도", "차속",
               "!주행 속도"], ["km/h", "mph", "m/s", "kn"]),
    "heading": (["heading", "hdg", "course", "bearing", "cog", "!course over ground", "방향", "!진행 방향"],
                ["deg"]),
    "battery": (["battery", "batt", "bat", "battery level", "soc", "state of charge", "battery charge",
                 "!batt level", "!battery remaining", "배터리", "!배터리 잔량", "잔량"], ["%", "fraction"]),
    "voltage": (["voltage", "volt", "vbat", "battery voltage", "supply voltage", "vin", "!batt voltage",
                 "!line voltage", "전압", "!배터리 전압"], ["V", "mV"]),
    "current": (["current", "amperage", "load current", "amps", "!charge current", "!line current", "전류",
                 "!충전 전류"], ["A", "mA"]),
    "power": (["power", "active power", "pwr", "load power", "!power draw", "!real power", "전력", "!소비 전력"],
              ["W", "kW"]),
    "energy": (["energy", "energy total", "consumption", "total energy", "!energy used", "!cumulative energy",
                "전력량", "!누적 전력량"], ["kWh", "Wh", "MWh"]),
    "co2": (["co2", "carbon dioxide", "co2 level", "eco2", "!co2 concentration", "!carbon dioxide level",
             "이산화탄소", "!co2 농도"], ["ppm"]),
    "pm25": (["pm25", "pm2.5", "pm2_5", "fine dust", "!pm 2.5", "!fine particles", "초미세먼지", "!초미세 먼지"],
             ["ug/m3"]),
    "pm10": (["pm10", "pm 10", "coarse dust", "!pm10 value", "!coarse particles", "미세먼지", "!미세 먼지"],
             ["ug/m3"]),
    "noise": (["noise", "sound level", "noise level", "spl", "loudness", "sound pressure level", "소음",
               "!소음도"], ["dB"]),
    "rssi": (["rssi", "signal strength", "signal", "rx level", "!rx rssi", "!signal level", "신호 세기",
              "수신 감도"], ["dBm"]),
    "heart_rate": (["heart rate", "hr", "pulse", "heartrate", "!heartbeat", "!pulse rate", "심박수", "맥박"],
                   ["bpm"]),
    "steps": (["steps", "step count", "pedometer", "stepcount", "!step total", "!daily steps", "걸음수",
               "!걸음 수"], ["count"]),
    "accuracy": (["accuracy", "acc", "hacc", "gps accuracy", "!horizontal accuracy", "!position accuracy",
                  "정확도", "!위치 정확도"], ["m"]),
    "fuel_level": (["fuel level", "fuel", "fuel pct", "tank level", "!fuel remaining", "!fuel gauge", "연료",
                    "!연료량"], ["%", "fraction"]),
    "odometer": (["odometer", "odo", "mileage", "total distance", "!odo reading", "!total mileage", "주행거리",
                  "!누적 주행 거리"], ["km", "mi"]),
    "rpm": (["rpm", "engine rpm", "revs", "engine speed", "rev count", "shaft speed", "회전수", "!엔진 회전수"],
            ["rpm"]),
    "door_open": (["door open", "door", "door state", "is door open", "!door opened", "!door contact", "문열림",
                   "!도어 열림"], ["bool"]),
    "light": (["light", "lux", "illuminance", "ambient light", "!light level", "!illumination", "조도", "밝기"],
              ["lux"]),
    "wind_speed": (["wind speed", "wind", "windspeed", "wind spd", "!wind velocity", "gust speed", "풍속",
                    "바람 세기"], ["m/s", "km/h", "mph", "kn"]),
    "wind_direction": (["wind direction", "wind dir", "winddir", "!wind bearing", "wind heading", "풍향",
                        "!바람 방향"], ["deg"]),
    "rainfall": (["rainfall", "rain", "precipitation", "rain amount", "!precip", "!rain total", "강수량",
                  "!강우량"], ["mm", "in"]),
    "status": (["status", "state", "mode", "condition", "!op state", "상태", "!운행 상태"], ["text"]),
}

# must-not-map fields and the kind of value they hold
NONE = [
    ("serial no", "serial"), ("serial number", "serial"), ("sn", "serial"), ("firmware", "version"),
    ("fw version", "version"), ("version", "version"), ("owner", "person"), ("ip", "ip"), ("ip address", "ip"),
    ("mac", "mac"), ("id", "int"), ("device id", "serial"), ("uuid", "uuid"), ("name", "person"),
    ("model", "serial"), ("manufacturer", "person"), ("note", "note"), ("comment", "note"),
    ("description", "note"), ("비고", "note"), ("메모", "note"), ("이름", "person"), ("모델명", "serial"),
    ("address", "note"), ("email", "email"), ("phone", "phone"), ("url", "url"), ("tag", "serial"),
    ("label", "person"), ("type", "word"), ("category", "word"), ("error code", "int"), ("seq", "int"),
    ("sequence", "int"), ("index", "int"), ("channel", "smallint"), ("port", "int"), ("interval", "int"),
    ("sample rate", "int"), ("gain", "float"), ("offset", "float"), ("threshold", "float"),
    ("temp setpoint", "float"), ("setpoint", "float"), ("timestamp", "int"), ("ts", "int"),
    ("created at", "note"), ("counter", "int"), ("checksum", "serial"), ("user", "person"), ("zone", "word"),
    ("site", "word"), ("floor", "smallint"), ("unit", "word"), ("message", "note"), ("reason", "note"),
    ("!asset tag", "serial"), ("!hw rev", "version"), ("!담당자", "person"), ("!operator", "person"),
    ("!gateway ip", "ip"), ("!imei", "serial"), ("!crc", "serial"), ("!시리얼", "serial"), ("!펌웨어", "version"),
    ("!remarks", "note"), ("!customer", "person"), ("!batch no", "serial"), ("temp alarm limit", "float"),
]

PREFIXES = ["", "", "", "", "outdoor", "indoor", "sensor", "device", "avg", "current", "cur", "raw", "env",
            "main", "room", "!exterior", "!meas", "!actual", "실내", "!외부"]
PREFIX_STYLES = ["sep", "dot"]  # sensor_temp, sensor.temp

KINDS = {
    "env": ["weather_station", "room_sensor", "air_quality", "greenhouse", "날씨"],
    "vehicle": ["car", "truck", "tracker", "fleet_vehicle", "bus"],
    "wearable": ["watch", "band", "wearable"],
    "power": ["meter", "inverter", "battery_pack", "ups", "ev_charger"],
    "generic": ["device", "sensor", "thing", "node", "asset"],
}
GROUP = {
    "temperature": "env", "humidity": "env", "pressure": "env", "co2": "env", "pm25": "env", "pm10": "env",
    "noise": "env", "light": "env", "wind_speed": "env", "wind_direction": "env", "rainfall": "env",
    "lat": "vehicle", "lon": "vehicle", "alt": "vehicle", "speed": "vehicle", "heading": "vehicle",
    "accuracy": "vehicle", "fuel_level": "vehicle", "odometer": "vehicle", "rpm": "vehicle",
    "door_open": "vehicle", "heart_rate": "wearable", "steps": "wearable", "battery": "generic",
    "voltage": "power", "current": "power", "power": "power", "energy": "power", "rssi": "generic",
    "status": "generic",
}

STYLES = ["snake", "snake", "camel", "camel", "pascal", "kebab", "dot", "space", "title", "upper", "concat"]


def split(items):
    train = [i for i in items if not i.startswith("!")]
    held = [i[1:] for i in items if i.startswith("!")]
    return train, held


def is_hangul(s):
    return any(0xAC00 <= ord(c) <= 0xD7A3 for c in s)


def render(tokens, unit, style, rng):
    """tokens: words of prefix + base; unit: a unit spelling or ""; → the field name."""
    words = [w for t in tokens for w in t.split(" ")]
    if any(is_hangul(w) for w in words):
        sep = rng.choice(["", " ", "_"])
        name = sep.join(words)
        if unit:
            name += rng.choice(["", "_", " ", "(", "[" ]) if not unit.startswith("°") else ""
            if name.endswith("("):
                return name + unit + ")"
            if name.endswith("["):
                return name + unit + "]"
            name += unit
        return name
    if style == "snake":
        name = "_".join(w.lower() for w in words)
    elif style == "upper":
        name = "_".join(w.upper() for w in words)
    elif style == "camel":
        name = words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])
    elif style == "pascal":
        name = "".join(w[:1].upper() + w[1:].lower() for w in words)
    elif style == "kebab":
        name = "-".join(w.lower() for w in words)
    elif style == "dot":
        name = ".".join(w.lower() for w in words)
    elif style == "title":
        name = " ".join(w[:1].upper() + w[1:] for w in words)
    elif style == "concat" and len(words) <= 2:
        name = "".join(w.lower() for w in words)
    else:
        name = " ".join(words)
    if not unit:
        return name
    unit_words = unit.split(" ")
    form = rng.choice(["sep", "sep", "glued", "paren", "bracket"])
    if style in ("space", "title"):
        form = rng.choice(["sep", "paren", "bracket"])
    if form == "paren":
        return name + " (" + " ".join(unit_words) + ")"
    if form == "bracket":
        return name + "[" + " ".join(unit_words) + "]"
    if form == "glued" and style in ("camel", "pascal"):
        return name + "".join(u[:1].upper() + u[1:] for u in unit_words)
    sep = {"snake": "_", "upper": "_", "kebab": "-", "dot": ".", "space": " ", "title": " "}.get(style, "_")
    u = sep.join(unit_words)
    return name + sep + (u.upper() if style == "upper" else u)


def values_for(canonical, unit, rng):
    n = rng.randint(1, 5)
    if canonical == "lat":
        c = rng.uniform(-80, 80)
        return [round(c + rng.uniform(-0.01, 0.01), 6) for _ in range(n)]
    if canonical == "lon":
        c = rng.uniform(-179, 179)
        return [round(c + rng.uniform(-0.01, 0.01), 6) for _ in range(n)]
    if unit == "deg":
        return [round(rng.uniform(0, 359.9), rng.choice([0, 1])) for _ in range(n)]
    if unit == "bool":
        return [rng.random() < 0.5 for _ in range(n)]
    if unit == "text":
        return [rng.choice(["ok", "idle", "running", "error", "charging", "offline", "정상", "MOVING"])
                for _ in range(n)]
    _, (low, high), integer = U[unit]
    if canonical == "accuracy":
        low, high = (1, 50)
    if canonical in ("battery", "fuel_level") and unit == "fraction":
        low = 0.05
    c = rng.uniform(low, high)
    span = (high - low) * 0.05
    out = []
    for _ in range(n):
        v = min(high, max(low, c + rng.uniform(-span, span)))
        out.append(int(round(v)) if integer else round(v, rng.choice([0, 1, 2, 3])))
    return out


def none_values(kind, rng):
    n = rng.randint(1, 4)
    gen = {
        "serial": lambda: rng.choice(["SN-", "A", "X9", "DEV-"]) + str(rng.randint(1000, 999999)),
        "version": lambda: "%d.%d.%d" % (rng.randint(0, 9), rng.randint(0, 20), rng.randint(0, 99)),
        "person": lambda: rng.choice(["kim", "Lee Minho", "park", "alice", "Bob", "ops team", "홍길동"]),
        "ip": lambda: "%d.%d.%d.%d" % tuple(rng.randint(1, 254) for _ in range(4)),
        "mac": lambda: ":".join("%02x" % rng.randint(0, 255) for _ in range(6)),
        "int": lambda: rng.randint(0, 10 ** rng.randint(1, 9)),
        "smallint": lambda: rng.randint(0, 16),
        "uuid": lambda: "%08x-%04x-4%03x-8%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                                        rng.getrandbits(12), rng.getrandbits(12),
                                                        rng.getrandbits(48)),
        "note": lambda: rng.choice(["check filter", "점검 필요", "replaced 2024-03", "n/a", "ok to ship",
                                    "installed on roof"]),
        "email": lambda: rng.choice(["a@b.com", "ops@example.org", "kim@corp.kr"]),
        "phone": lambda: "010-%04d-%04d" % (rng.randint(0, 9999), rng.randint(0, 9999)),
        "url": lambda: rng.choice(["https://example.com/x", "http://10.0.0.2/status"]),
        "word": lambda: rng.choice(["a", "b", "north", "lobby", "type2", "zone_a"]),
        "float": lambda: round(rng.uniform(-50, 500), 2),
    }[kind]
    return [gen() for _ in range(n)]


def kind_for(canonical, rng):
    group = GROUP.get(canonical, "generic")
    return rng.choice(KINDS[group] if rng.random() < 0.7 else KINDS["generic"])


def compose(rng, words, prefixes, unit_spellings):
    """→ (name, base word): the base word groups rows for cross-validation in training."""
    base = rng.choice(words)
    prefix = rng.choice(prefixes)
    if is_hangul(base) and prefix and not is_hangul(prefix) and rng.random() < 0.7:
        prefix = ""
    tokens = ([prefix] if prefix else []) + [base]
    unit = rng.choice(unit_spellings)
    style = rng.choice(STYLES)
    name = render(tokens, unit, style, rng)
    if prefix and rng.random() < 0.3 and not is_hangul(name):
        # a dotted prefix on any style: sensor.tempF
        rest = render([base], unit, style, rng)
        name = prefix.lower() + "." + rest
    return name, base


def rows_for(split_held, rng, count):
    rows = []
    seen = set()
    prefixes_train, prefixes_held = split(PREFIXES)
    prefixes = prefixes_held + [""] if split_held else prefixes_train
    for canonical, (words_all, units) in CANON.items():
        words_train, words_held = split(words_all)
        for unit in units:
            spell_train, _ = split(U[unit][0])
            # Unit spellings are a closed list (units.ts): the held-out split reuses the known ones. A name
            # without a unit is only made where the values tell the unit: the canonical's own unit, or a
            # range no other unit of the field shares (K, Pa, a 0–1 fraction).
            if unit != units[0] and unit not in ("K", "Pa", "fraction"):
                spell_train = [sp for sp in spell_train if sp != ""]
            spell_held = []
            label = canonical + "|" + unit
            made = 0
            tries = 0
            while made < count and tries < count * 30:
                tries += 1
                if split_held:
                    # held out: an unseen word, or a seen word with an unseen prefix or unit spelling
                    choice = rng.random()
                    words = words_held if choice < 0.6 or not (prefixes_held or spell_held) else words_train
                    pre = prefixes if choice >= 0.6 and choice < 0.8 else prefixes_train
                    spells = spell_held if choice >= 0.8 and spell_held else spell_train
                else:
                    words, pre, spells = words_train, prefixes, spell_train
                if not words:
                    continue
                name, base = compose(rng, words, pre, spells)
                if name in seen or not name.strip():
                    continue
                seen.add(name)
                rows.append({"kind": kind_for(canonical, rng), "name": name,
                             "values": values_for(canonical, unit, rng), "label": label, "word": base})
                made += 1
    if not split_held:
        # Every base word bare (no prefix, no unit) in a few case styles: the commonest name of all.
        for canonical, (words_all, units) in CANON.items():
            for word in split(words_all)[0]:
                for style in ("snake", "camel", "title"):
                    name = render([word], "", style, rng)
                    rows.append({"kind": kind_for(canonical, rng), "name": name,
                                 "values": values_for(canonical, units[0], rng),
                                 "label": canonical + "|" + units[0], "word": word})
    none_train = [n for n in NONE if not n[0].startswith("!")]
    none_held = [(n[0][1:], n[1]) for n in NONE if n[0].startswith("!")]
    pool = none_held if split_held else none_train
    for _ in range(count * (6 if split_held else 12)):
        word, vkind = rng.choice(pool)
        prefix = rng.choice(prefixes) if rng.random() < 0.3 else ""
        name = render(([prefix] if prefix else []) + [word], "", rng.choice(STYLES), rng)
        if (name, vkind) in seen:
            continue
        seen.add((name, vkind))
        rows.append({"kind": kind_for("none", rng), "name": name, "values": none_values(vkind, rng),
                     "label": "none", "word": word})
    return rows


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "data")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(SEED)
    train = rows_for(False, rng, ROWS_PER_LABEL)
    held = rows_for(True, rng, HELDOUT_ROWS_PER_LABEL)
    train_names = {r["name"] for r in train}
    held = [r for r in held if r["name"] not in train_names]  # never a name training saw
    for path, rows in (("train.jsonl", train), ("heldout.jsonl", held)):
        with open(os.path.join(out, path), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print("wrote %d training rows and %d held-out rows to %s" % (len(train), len(held), out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
