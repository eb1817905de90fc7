"""A strict reader of SIE 4 files, as the strictest accounting systems import them: every
record is one the format knows, with the fields it must have; texts are quoted (a quote
escaped with a backslash); object lists are {dimension "object" …} pairs; a #VER has a
series, a number, a date, a text and a registration date, its #TRANS lines follow inside
{ } and balance to 0.00; every account and object used is declared first."""

import datetime as dt
import re
from decimal import Decimal
from typing import NamedTuple

HEAD = {
    "#FLAGGA": 1,
    "#FORMAT": 1,
    "#SIETYP": 1,
    "#PROGRAM": 2,
    "#GEN": 1,
    "#FNAMN": 1,
    "#ORGNR": 1,
    "#KONTO": 2,
    "#DIM": 2,
    "#OBJEKT": 3,
}


class Trans(NamedTuple):
    account: str
    objects: dict
    amount: Decimal
    date: dt.date
    text: str


class Ver(NamedTuple):
    series: str
    number: int
    date: dt.date
    text: str
    registered: dt.date
    rows: list


class Sie(NamedTuple):
    heads: dict  # label: [fields] of the single-valued records
    accounts: dict  # account: name
    dimensions: dict  # number: name
    objects: dict  # (dimension, id): name
    vouchers: list


def _date(text):
    assert re.fullmatch(r"\d{8}", text), f"not a date YYYYMMDD: {text!r}"
    return dt.datetime.strptime(text, "%Y%m%d").date()


def _fields(line):
    """The record's fields: bare words, quoted strings, and {…} object lists (as dicts)."""
    tokens, position = [], 0
    while position < len(line):
        char = line[position]
        if char == " ":
            position += 1
        elif char == '"':
            value, position = "", position + 1
            while line[position] != '"':
                if line[position] == "\\":
                    position += 1
                    assert line[position] == '"', f"only quotes are escaped: {line}"
                value += line[position]
                position += 1
            tokens.append(value)
            position += 1
            assert position == len(line) or line[position] == " ", line
        elif char == "{":
            end = line.index("}", position)
            inner = _fields(line[position + 1 : end].strip()) if line[position + 1 : end].strip() else []
            assert len(inner) % 2 == 0, f"an object list is pairs of dimension and object: {line}"
            objects = {}
            for dimension, code in zip(inner[::2], inner[1::2]):
                assert re.fullmatch(r"\d+", dimension) and code, line
                objects[int(dimension)] = code
            tokens.append(objects)
            position = end + 1
        else:
            end = line.find(" ", position)
            end = len(line) if end < 0 else end
            word = line[position:end]
            assert '"' not in word and "{" not in word and "}" not in word, line
            tokens.append(word)
            position = end
    return tokens


def read(content):
    text = content.decode("cp437")
    assert "?" not in text, "a character the code page could not carry was written as '?'"
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", ""), "records end in CRLF"
    heads, accounts, dimensions, objects, vouchers = {}, {}, {}, {}, []
    lines = iter(text.split("\r\n")[:-1])
    for line in lines:
        fields = _fields(line.strip())
        label, fields = fields[0], fields[1:]
        if label == "#VER":
            series, number, day, title, registered = fields
            assert re.fullmatch(r"[A-Za-z0-9]+", series) and re.fullmatch(r"[1-9]\d*", number), line
            assert next(lines).strip() == "{", "a voucher's rows are in braces"
            rows = []
            for row in lines:
                if row.strip() == "}":
                    break
                row = row.strip()
                assert row.startswith("#TRANS "), f"only #TRANS inside a voucher: {row}"
                account, row_objects, amount, row_day, row_text = _fields(row)[1:]
                assert account in accounts, f"account {account} is not declared with #KONTO"
                for dimension, code in row_objects.items():
                    assert dimension in dimensions and (dimension, code) in objects, f"undeclared object: {row}"
                assert re.fullmatch(r"-?\d+\.\d{2}", amount), row
                rows.append(Trans(account, row_objects, Decimal(amount), _date(row_day), row_text))
            else:
                raise AssertionError("a voucher was never closed")
            assert rows and sum(row.amount for row in rows) == Decimal("0.00"), (
                f"voucher {series} {number} does not balance"
            )
            vouchers.append(Ver(series, int(number), _date(day), title, _date(registered), rows))
        elif label == "#KONTO":
            account, name = fields
            assert re.fullmatch(r"\d{4,6}", account) and account not in accounts, line
            accounts[account] = name
        elif label == "#DIM":
            number, name = fields
            dimensions[int(number)] = name
        elif label == "#OBJEKT":
            number, code, name = fields
            assert int(number) in dimensions, f"#OBJEKT before its #DIM: {line}"
            objects[(int(number), code)] = name
        else:
            assert label in HEAD and len(fields) == HEAD[label] and label not in heads, f"unknown or repeated: {line}"
            heads[label] = fields
    assert heads["#SIETYP"] == ["4"] and heads["#FORMAT"] == ["PC8"]
    numbers = [(ver.series, ver.date.year, ver.number) for ver in vouchers]
    assert len(set(numbers)) == len(numbers), "a voucher number is used twice"
    return Sie(heads, accounts, dimensions, objects, vouchers)


def booked_per_case(sie, account):
    """{case number: net amount on the account}, from the case number that begins each row's text."""
    totals = {}
    for voucher in sie.vouchers:
        for row in voucher.rows:
            if row.account == account:
                case = " ".join(row.text.split()[:2])
                totals[case] = totals.get(case, Decimal("0.00")) + row.amount
    return totals
