"""A tiny ConvLab-2-shaped MultiWOZ file, written into a test's folder."""

import json


def _metadata(hotel_semi=None, taxi_semi=None, hotel_book=None):
    return {
        "hotel": {
            "book": {
                "booked": [{"name": "x"}],
                "people": "",
                "day": "",
                "stay": "",
                **(hotel_book or {}),
            },
            "semi": {"name": "not mentioned", "area": "", "pricerange": "", **(hotel_semi or {})},
        },
        "taxi": {"book": {"booked": []}, "semi": {"leaveAt": "", **(taxi_semi or {})}},
        "police": {"book": {"booked": []}, "semi": {}},
        "hospital": {"book": {"booked": []}, "semi": {"department": "neurology"}},
    }


DIALOGUES = {
    "D1.json": {
        "goal": {},
        "log": [
            {"text": "I need a cheap hotel .", "metadata": {}},
            {"text": "Which area ?", "metadata": _metadata({"pricerange": "cheap"})},
            {"text": "The north , for 2 people .", "metadata": {}},
            {
                "text": "Booked .",
                "metadata": _metadata(
                    {"pricerange": "cheap", "area": "north"}, hotel_book={"people": "2"}
                ),
            },
        ],
    },
    "D2.json": {
        "goal": {},
        "log": [
            {"text": "A taxi at 10:15 please", "metadata": {}},
            {"text": "Sure .", "metadata": _metadata(taxi_semi={"leaveAt": "10:15"})},
        ],
    },
}

STATES = [
    {("hotel", "pricerange"): "cheap"},
    {("hotel", "pricerange"): "cheap", ("hotel", "area"): "north", ("hotel", "book people"): "2"},
    {("taxi", "leaveat"): "10:15"},
]


def write_multiwoz(path, dialogues=DIALOGUES):
    path.write_text(json.dumps(dialogues))
    return str(path)
