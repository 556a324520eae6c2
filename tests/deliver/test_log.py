"""The delivery log: atomic writes, read back."""

import json

from branchbook.deliver.log import DeliveryLog, write_atomic


def test_the_log_is_written_atomically_and_read_back(tmp_path):
    log = DeliveryLog(tmp_path)
    log.record("a", {"0101/risk": {"checksum": "c"}}, message_id="<m>", correction=False)
    log.record_alert("a|0101/risk/npl_ratio", message_id="<n>")
    again = DeliveryLog(tmp_path)
    assert again.delivered("a") == {"0101/risk": {"checksum": "c"}}
    assert again.alerted("a|0101/risk/npl_ratio")
    assert [p.name for p in tmp_path.iterdir()] == ["delivery.json"]
    write_atomic(tmp_path / "x.json", json.dumps({"k": 1}))
    assert json.loads((tmp_path / "x.json").read_text()) == {"k": 1}
