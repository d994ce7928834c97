"""Figures about all the stored values that a run asks for once per state of the data, kept
per tracker and brought up to date from the rows written since (values are only ever added:
tracker.store.observations.data_version), so a second run after a few corrections does not scan
millions of values again."""

import weakref
from datetime import date
from typing import Any

# tracker -> (data version, whether any value is sample data)
_SAMPLE: "weakref.WeakKeyDictionary[Any, tuple[Any, bool]]" = weakref.WeakKeyDictionary()
# tracker -> {as_of: (data version, store.latest_reported)}
_LATEST: "weakref.WeakKeyDictionary[Any, dict[date, tuple[Any, dict[str, dict[str, int]]]]]" = \
    weakref.WeakKeyDictionary()
_KEPT_DATES = 4


def has_sample_data(tracker: Any) -> bool:
    """Whether any value is sample data, asked of the store once per state of the data; the
    store remembers how far it looked (store.observations.sample_data_seen), so every value is
    looked at once, by whichever process asks first, and later only those written since."""
    from tracker import store
    from tracker.store.observations import sample_data_seen

    version = store.data_version(tracker.engine)
    found = _SAMPLE.get(tracker)
    if found is None or found[0] != version:
        found = (version, sample_data_seen(tracker.engine, tracker.now()))
        _SAMPLE[tracker] = found
    return found[1]


def latest_reported(tracker: Any, as_of: date) -> dict[str, dict[str, int]]:
    """store.latest_reported for `as_of`: read in full once, then from the rows written since.
    The result is shared: do not change it."""
    from tracker import store

    version = store.data_version(tracker.engine)
    kept = _LATEST.setdefault(tracker, {})
    found = kept.get(as_of)
    if found is None or found[0][0] > version[0]:
        latest = store.latest_reported(tracker.engine, as_of)
    elif found[0][0] == version[0]:
        latest = found[1]
    else:
        latest = store.latest_reported(tracker.engine, as_of, since_id=found[0][0], base=found[1])
    if len(kept) >= _KEPT_DATES and as_of not in kept:
        kept.clear()
    kept[as_of] = (version, latest)
    return latest
