"""The year end to end (issue 7), scaled down for CI: the demo scenario through all four services as
subprocesses, its numbers checked against what the services report, and every event of the year
read by the outside observer and validated against contracts/schemas."""

from __future__ import annotations

import re

import pytest

from demo.scenario import run
from tests.texts import problems

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]


async def test_the_year_runs_end_to_end(tmp_path, capsys):
    out, events, channels, invalid = await run(grassroots=20, data_dir=tmp_path / "demo", verbose=False)
    assert invalid == [], invalid[:10]
    # The summary reads right to an officer: no raw JSON, no ISO dates, no ids or English (paths aside).
    summary = capsys.readouterr().out
    assert "TỔNG KẾT NĂM" in summary and problems(re.sub(r"\S*/\S+", " ", summary)) == [], summary
    reporters_2021 = out.upper + out.grassroots
    for year, reporters in (("2021", reporters_2021), ("2022", reporters_2021 - 1)):  # one union merged away
        counts = out.reports[year]
        comp = out.summary[f"completeness_{year}"]["completeness"]
        assert comp["expected"] == reporters
        assert comp["on_time"] == counts["on_time"]
        assert comp["late"] == counts["late"]
        assert comp["missing"] == counts["missing"]
        assert comp["submitted"] == counts["on_time"] + counts["late"]
        # Each unit's task "send the 30/11 report" follows its report (plans consumes reports' events).
        assert out.report_tasks[year] == {k: v for k, v in (("done_on_time", counts["on_time"]),
                                                            ("done_late", counts["late"]),
                                                            ("overdue", counts["missing"])) if v}, out.report_tasks[year]
        # "report overdue" once per unit that had not reported by the due date.
        from docx import Document
        from openpyxl import load_workbook

        doc = Document(out.exports[year]["docx"])
        text = "\n".join(p.text for p in doc.paragraphs)
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in "\n".join(
            c.text for t in doc.tables for row in t.rows for c in row.cells) + text
        assert load_workbook(out.exports[year]["xlsx"]).sheetnames
        # ...and any client downloads them through the API, byte for byte
        files = {name: saved for name, _, saved in out.downloads[year]}
        assert sorted(files) == [f"bao-cao-tong-hop-LDLD-BD-{year}.docx", f"bao-cao-tong-hop-LDLD-BD-{year}.xlsx"]
        assert files[f"bao-cao-tong-hop-LDLD-BD-{year}.docx"].read_bytes() == open(out.exports[year]["docx"], "rb").read()
    assert out.reports["2021"]["returned_and_resubmitted"] == 1
    assert events["vn.congdoan.reports.report.overdue.v1"] == sum(
        out.reports[y]["late"] + out.reports[y]["missing"] for y in ("2021", "2022"))
    assert events["vn.congdoan.plans.plan.issued.v1"] >= 1
    assert events["vn.congdoan.plans.tasks.assigned.v1"] >= out.units - 1
    assert events["vn.congdoan.plans.deadline.missed.v1"] > 0
    assert events["vn.congdoan.plans.deadline.approaching.v1"] > 0
    assert events["vn.congdoan.plans.unit.closed.v1"] == 1  # the merge
    assert out.awards > 0 and events["vn.congdoan.awards.award.granted.v1"] == out.awards
    assert out.awards + len(out.refused) == out.nominations
    # The May round is Workers' Month's (not the year-long one), and the awards say so too.
    assert "Tháng Công nhân" in out.round_name and out.award_rounds == {out.round_name: out.awards}
    assert f"Đợt khen thưởng “{out.round_name}”: đề nghị {out.nominations}, được khen thưởng {out.awards}, " \
           f"không được chấp thuận {len(out.refused)}" in summary
    decided = events["vn.congdoan.awards.nomination.decided.v1"]
    assert decided >= out.nominations  # every nomination ends decided: the refused ones refused
    assert out.impl_plans_on_time > 0 and out.impl_plans_late > 0


async def test_the_demo_runs_on_an_existing_nats_server(nats_server, nc, tmp_path, capsys):
    """Issue 13 §11: with NATS_URL the demo uses that server (here the session's, with congdoan's
    users) instead of starting one; it refuses a server that already holds congdoan's events, and
    leaves the server's shared clock at real time."""
    from datetime import timedelta

    from demo.scenario import NotEmpty
    from runtime.clock import read_shared_offset
    from tests.support import TEST_SECRETS

    out, _, _, invalid = await run(grassroots=20, data_dir=tmp_path / "demo", verbose=True,
                                   nats_url=nats_server.url, nats_secrets=TEST_SECRETS / "nats")
    assert invalid == [] and out.awards > 0 and out.reports["2022"]["on_time"] > 0
    assert not (tmp_path / "demo" / "nats").exists()  # no nats-server of its own
    assert f"Máy chủ NATS có sẵn: {nats_server.url}" in capsys.readouterr().out
    js = nc.jetstream()
    assert (await js.stream_info("CONGDOAN_PLANS")).state.messages > 0  # the year is on that server
    assert abs(await read_shared_offset(js)) < timedelta(seconds=1)
    with pytest.raises(NotEmpty, match="đã có dữ liệu của congdoan"):
        await run(grassroots=20, data_dir=tmp_path / "again", verbose=False, nats_url=nats_server.url,
                  nats_secrets=TEST_SECRETS / "nats")
