"""Number forms officials write: 1.5万, 15,000, ３２, 三十二, 百分之三十, 30%, 5‰.

Pure functions shared by target extraction and by value entry, so that a figure is read the
same way in a document, a CSV cell and a web form.
"""

import re
import unicodedata

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
          "六": 6, "七": 7, "八": 8, "九": 9}
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
LARGE_UNITS = {"万": 10_000, "亿": 100_000_000}
CN_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万亿"

# An Arabic number, with thousands separators and an optional 万/亿 multiplier.
ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?(?:\s*[万亿])?"
CHINESE = rf"[{CN_NUMERAL_CHARS}]+(?:点[{CN_NUMERAL_CHARS[:11]}]+)?"
NUMBER_PATTERN = rf"(?:百分之|千分之)?(?:{ARABIC}|{CHINESE})\s*[%‰]?"
NUMBER_RE = re.compile(NUMBER_PATTERN)


class NumberError(ValueError):
    pass


def normalize_text(text: str) -> str:
    """Full-width digits, letters and punctuation to their ASCII forms (３２ -> 32, ％ -> %),
    keeping Chinese punctuation that NFKC would also fold (，；：（）) recognisable."""
    out = []
    for ch in text:
        if "０" <= ch <= "９" or ch in "％．，":
            # ，between digits is a thousands separator only inside numbers; keep it Chinese
            # elsewhere so clause splitting still sees it.
            out.append(unicodedata.normalize("NFKC", ch) if ch != "，" else ch)
        else:
            out.append(ch)
    return "".join(out)


def chinese_to_int(text: str) -> int:
    """三十二 -> 32, 一万五千 -> 15000, 两 -> 2, 十 -> 10, 二〇二五 -> 2025."""
    if not text or any(ch not in CN_NUMERAL_CHARS for ch in text):
        raise NumberError(f"not a Chinese numeral: {text!r}")
    if all(ch in DIGITS for ch in text) and len(text) > 1:  # digit by digit: 二〇二五
        return int("".join(str(DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch in SMALL_UNITS:
            section += (1 if digit is None else digit) * SMALL_UNITS[ch]
            digit = None
        elif ch in LARGE_UNITS:
            section += digit or 0
            total += (section or 1) * LARGE_UNITS[ch]
            section, digit = 0, None
    return total + section + (digit or 0)


def _chinese_to_float(text: str) -> float:
    if "点" in text:
        whole, frac = text.split("点", 1)
        return chinese_to_int(whole) + float("0." + "".join(str(DIGITS[c]) for c in frac))
    return float(chinese_to_int(text))


def parse_number(text: str) -> tuple[float, str | None]:
    """Read one number; returns (value, unit) where unit is 'percent' or 'permille' when the
    text carried % / ‰ / 百分之 / 千分之, else None. Raises NumberError naming what it accepts."""
    raw = text
    s = normalize_text(str(text)).strip().replace("，", ",").replace(" ", "")
    if not s:
        raise NumberError("empty value; expected a number such as 32, 1.5万, 15,000 or 30%")
    unit = None
    if s.startswith("百分之"):
        s, unit = s[3:], "percent"
    elif s.startswith("千分之"):
        s, unit = s[3:], "permille"
    if s.endswith("%"):
        s, unit = s[:-1], "percent"
    elif s.endswith("‰"):
        s, unit = s[:-1], "permille"
    multiplier = 1.0
    if s and s[-1] in LARGE_UNITS and not all(c in CN_NUMERAL_CHARS for c in s):
        multiplier, s = float(LARGE_UNITS[s[-1]]), s[:-1]
    if re.fullmatch(r"[+-]?(\d+(,\d{3})*|\d*)(\.\d+)?", s) and any(c.isdigit() for c in s):
        return float(s.replace(",", "")) * multiplier, unit
    if re.fullmatch(CHINESE, s):
        return _chinese_to_float(s) * multiplier, unit
    raise NumberError(
        f"not a number: {raw!r}; accepted forms: 32, 3.5, 15,000, 1.5万, ３２, 三十二, "
        "30%, 百分之三十, 5‰")


_LEADING_NUMBER = re.compile(rf"[+-]?(?:百分之|千分之)?(?:{ARABIC}|{CHINESE})\s*[%‰]?")


def parse_quantity(text: str) -> tuple[float, str | None]:
    """A number with the unit officials write after it: '1.2万张' -> (12000, '张'),
    '32张/千名老年人' -> (32, '张/千名老年人'), '60％' -> (60, 'percent'), '350个' -> (350, '个');
    a bare number gives (value, None) as `parse_number`. Only the number's digits and spaces
    are normalised; the unit is returned as written for the unit table to read. Raises
    NumberError when no number leads the text, or a percent sign comes before a unit."""
    try:
        return parse_number(text)
    except NumberError:
        pass
    s = normalize_text(str(text)).strip().replace("，", ",")
    m = _LEADING_NUMBER.match(s)
    rest = s[m.end():].strip() if m else ""
    if not m or not rest or m.group(0).rstrip().endswith(("%", "‰")) or m.group(0).strip("+-") in LARGE_UNITS:
        raise NumberError(
            f"not a number: {text!r}; accepted forms: 32, 3.5, 15,000, 1.5万, 30%, or a number with its "
            "unit: 1.2万张, 32张/千人, 350个")
    value, _percent = parse_number(m.group(0))  # a percent sign before a unit was refused above
    return value, rest
