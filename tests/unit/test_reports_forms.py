"""Report forms as data: the campaign form, validation naming the field, NFC, serialisation."""

from __future__ import annotations

import json
import unicodedata

import pytest

from services.reports.domain.forms import (
    CAMPAIGN_FORM_01KL,
    DEFINITIONS_DIR,
    CrossFieldRule,
    FormDefinition,
    FormDefinitionError,
    FormRegistry,
    FormValidationError,
    NumberField,
    ShareField,
    TextField,
)

FORM = CAMPAIGN_FORM_01KL


def good_values(**over: object) -> dict:
    v: dict = {"study_sessions": 4, "participants": 120, "cadres_total": 9, "cadres_with_plans": 9,
               "members_total": 85, "members_with_plans": 60, "exemplary_models": 2, "commended_collectives": 1,
               "commended_individuals": 5, "news_posts": 12,
               "results": "Tổ chức 4 buổi học tập chuyên đề năm cho đoàn viên.",
               "limitations": "Đoàn viên làm theo ca khó tham gia đầy đủ.",
               "next_year_tasks": "Tiếp tục đưa việc học tập và làm theo Bác vào sinh hoạt công đoàn."}
    v.update(over)
    return v


def test_the_campaign_form_is_data_loaded_from_its_json_file() -> None:
    assert (FORM.form_id, FORM.version) == ("bc-01-kl-tw", 1)
    assert "01-KL/TW" in FORM.title
    assert (DEFINITIONS_DIR / "bc-01-kl-tw.v1.json").is_file()
    keys = [f.key for f in FORM.fields]
    for key in ("study_sessions", "participants", "members_with_plans", "members_with_plans_share",
                "cadres_with_plans_share", "exemplary_models", "commended_collectives", "commended_individuals",
                "news_posts", "results", "limitations", "next_year_tasks", "proposals"):
        assert key in keys
    share = FORM.field("members_with_plans_share")
    assert isinstance(share, ShareField)
    assert (share.numerator, share.denominator) == ("members_with_plans", "members_total")
    assert FORM.field("study_sessions").label == "Số buổi tổ chức học tập, quán triệt, triển khai"
    assert FORM.field("proposals").compulsory is False
    assert "results" in FORM.compulsory_keys and "members_with_plans_share" not in FORM.compulsory_keys
    assert all(unicodedata.is_normalized("NFC", f.label) for f in FORM.fields)


def test_a_good_submission_has_no_error_and_cleans_to_stored_values() -> None:
    assert FORM.validate(good_values()) == []
    cleaned = FORM.clean(good_values(study_sessions=4.0, proposals="  "))
    assert cleaned["study_sessions"] == 4 and type(cleaned["study_sessions"]) is int
    assert "proposals" not in cleaned  # an optional empty text is absent
    assert FORM.derived(cleaned) == {"cadres_with_plans_share": 1.0, "members_with_plans_share": 60 / 85}


def test_a_missing_compulsory_field_is_a_clear_error_naming_the_field() -> None:
    values = good_values()
    del values["participants"]
    values["limitations"] = "   "
    errors = FORM.validate(values)
    assert [(e.field, e.code) for e in errors] == [("participants", "missing"), ("limitations", "missing")]
    msg = errors[0].message
    assert msg == "Thiếu trường bắt buộc “Số lượt cán bộ, ĐVNLĐ tham gia học tập” (participants)."
    with pytest.raises(FormValidationError) as exc:
        FORM.clean(values)
    assert [e.field for e in exc.value.errors] == ["participants", "limitations"]
    assert "participants" in str(exc.value) and "bc-01-kl-tw" in str(exc.value)


@pytest.mark.parametrize(("key", "value", "code", "words"), [
    ("study_sessions", 2.5, "integer", "số nguyên"),
    ("study_sessions", -1, "min", "không nhỏ hơn 0"),
    ("members_total", 20_000_000, "max", "không lớn hơn"),
    ("news_posts", "12", "type", "phải là một số, không phải '12'"),
    ("news_posts", True, "type", "phải là một số"),
    ("news_posts", float("nan"), "type", "phải là một số"),
    ("results", 42, "type", "phải là văn bản"),
    ("proposals", "x" * 10_001, "max_length", "10000"),
])
def test_each_field_rule_names_the_field(key: str, value: object, code: str, words: str) -> None:
    errors = FORM.validate(good_values(**{key: value}))
    assert len(errors) == 1
    assert (errors[0].field, errors[0].code) == (key, code)
    assert key in errors[0].message and words in errors[0].message


def test_cross_field_rule_names_both_fields() -> None:
    errors = FORM.validate(good_values(members_total=10, members_with_plans=12))
    assert [(e.field, e.code) for e in errors] == [("members_with_plans,members_total", "rule")]
    assert "members_with_plans" in errors[0].message and "members_total" in errors[0].message
    assert "phải không lớn hơn" in errors[0].message and errors[0].message.endswith(".")
    # a rule is not checked when one side is already wrong (the field error says it)
    errors = FORM.validate(good_values(members_total=None, members_with_plans=12))
    assert [e.code for e in errors] == ["missing"]


def test_unknown_fields_are_refused_and_submitted_shares_ignored() -> None:
    errors = FORM.validate(good_values(foo=1))
    assert [(e.field, e.code) for e in errors] == [("foo", "unknown")]
    cleaned = FORM.clean(good_values(members_with_plans_share=0.99))
    assert "members_with_plans_share" not in cleaned
    assert FORM.derived(cleaned)["members_with_plans_share"] == pytest.approx(60 / 85)


def test_text_is_nfc_normalised_and_measured_after_normalisation() -> None:
    nfd = unicodedata.normalize("NFD", "  Kết quả đạt được: học tập và làm theo Bác  ")
    assert nfd != unicodedata.normalize("NFC", nfd)
    cleaned = FORM.clean(good_values(results=nfd))
    assert cleaned["results"] == "Kết quả đạt được: học tập và làm theo Bác"
    assert unicodedata.is_normalized("NFC", cleaned["results"])
    # 10,000 NFC characters pass although their NFD form is longer
    text = "ệ" * 10_000
    assert len(unicodedata.normalize("NFD", text)) > 10_000
    assert FORM.validate(good_values(proposals=unicodedata.normalize("NFD", text))) == []


def test_round_trip_through_json_and_the_file_is_the_serialised_form() -> None:
    assert FormDefinition.from_dict(FORM.to_dict()) == FORM
    assert FormDefinition.from_json(FORM.to_json()) == FORM
    on_disk = json.loads((DEFINITIONS_DIR / "bc-01-kl-tw.v1.json").read_text(encoding="utf-8"))
    assert FormDefinition.from_dict(on_disk) == FORM


def test_another_campaign_brings_its_own_form_and_versions_coexist() -> None:
    v1 = FormDefinition(form_id="bc-an-toan-ld", version=1, title="Báo cáo Tháng hành động về an toàn lao động",
                        fields=(NumberField("trainings", "Số lớp huấn luyện", unit="lớp"),
                                NumberField("workers", "Số người lao động"),
                                NumberField("trained", "Số người được huấn luyện"),
                                ShareField("trained_share", "Tỷ lệ được huấn luyện", "trained", "workers"),
                                TextField("results", "Kết quả")),
                        rules=(CrossFieldRule("trained", "<=", "workers"),))
    v2 = FormDefinition.from_dict({**v1.to_dict(), "version": 2,
                                   "fields": [f.to_dict() for f in v1.fields]
                                   + [{"key": "accidents", "kind": "number", "label": "Số vụ tai nạn", "compulsory": False}]})
    reg = FormRegistry([FORM, v1, v2])
    assert reg.get("bc-an-toan-ld") is v2 and reg.get("bc-an-toan-ld", 1) is v1
    assert reg.get("bc-01-kl-tw") is FORM
    with pytest.raises(KeyError, match="v7"):
        reg.get("bc-01-kl-tw", 7)
    with pytest.raises(FormDefinitionError, match="phiên bản mới"):
        reg.register(FormDefinition.from_dict({**v1.to_dict(), "title": "khác"}))
    assert v2.validate({"trainings": 1, "workers": 5, "trained": 6, "results": "ok"})[0].code == "rule"
    assert [f.form_id for f in FormRegistry.from_directory()] == ["bc-01-kl-tw"]


@pytest.mark.parametrize(("change", "words"), [
    (lambda d: d["fields"].append({**d["fields"][0]}), "bị trùng"),
    (lambda d: d["fields"].append({"key": "x", "kind": "matrix", "label": "x"}), "không có loại trường “matrix”"),
    (lambda d: d["fields"].append({"key": "y", "kind": "number", "label": "y", "colour": "red"}),
     "không có thuộc tính “colour”"),
    (lambda d: d["fields"].append({"key": "s", "kind": "share", "label": "s", "numerator": "results",
                                   "denominator": "members_total"}), "không phải trường số"),
    (lambda d: d["rules"].append({"left": "results", "op": "<=", "right": "members_total"}), "không phải trường số"),
    (lambda d: d["rules"].append({"left": "participants", "op": "=<", "right": 0}), "operator"),
    (lambda d: d["fields"][0].update(aggregation="avg"), "aggregation"),
    (lambda d: d.update(version=0), "version"),
    (lambda d: d.update(schema="other"), "schema"),
])
def test_wrong_form_documents_are_refused(change, words: str) -> None:  # type: ignore[no-untyped-def]
    d = json.loads(FORM.to_json())
    change(d)
    with pytest.raises(FormDefinitionError, match=words):
        FormDefinition.from_dict(d)
