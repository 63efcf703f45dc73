"""Issue 11 §3, §5, §7 on the pages: the intake form's statutory fields, the case page's marks and actions, and the
reply package with every required field (RULES.md §7.3)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from db.models import Case, Escalation
from services.casework import cases
from tests.app.test_workflow import case_count, fill_intake, open_page, open_tab, save
from tests.service.conftest import at


def _case(engine, **where):
    with engine.connect() as conn:
        return conn.execute(select(Case).filter_by(**where)).one()


def test_intake_records_a_12378_transfer(institution, app):
    page = fill_intake(open_page(app, institution.users["clerk"], "intake"))
    page.selectbox(key="intake_source").set_value("nfra_12378")
    page = page.run()
    page.text_input(key="intake_regulator_ref").input("12378-2026-0042")
    page.date_input(key="intake_transferred_on").set_value(date(2026, 11, 27))
    page = save(page.run())
    assert not page.exception and not page.error
    case = _case(institution.engine, case_no=page.session_state["intake_saved"])
    assert (case.source, case.regulator_ref, case.transferred_on) == ("nfra_12378", "12378-2026-0042",
                                                                     date(2026, 11, 27))


def test_a_transfer_without_its_reference_is_refused_under_the_field(institution, app):
    page = fill_intake(open_page(app, institution.users["clerk"], "intake"))
    page.selectbox(key="intake_source").set_value("csrc_12386")
    page = page.run()
    page.date_input(key="intake_transferred_on").set_value(date(2026, 11, 27))
    page = save(page.run())
    assert [e.value for e in page.error] == ["请填写监管转办编号。"]
    assert case_count(institution.engine) == 0


def test_the_other_channel_asks_what_it_was(institution, app):
    page = fill_intake(open_page(app, institution.users["clerk"], "intake"))
    assert not [w for w in page.text_input if w.key == "intake_channel_note"]
    page.selectbox(key="intake_channel").set_value("other")
    page = page.run()
    page.text_input(key="intake_channel_note").input("媒体")
    page = save(page.run())
    assert not page.error
    case = _case(institution.engine, case_no=page.session_state["intake_saved"])
    assert (case.channel, case.channel_note) == ("other", "媒体")


def test_an_agent_without_the_letter_is_refused(institution, app):
    page = fill_intake(open_page(app, institution.users["clerk"], "intake"))
    page.text_input(key="intake_agent_name").input("王律师")
    page = save(page.run())
    assert [e.value for e in page.error] == ["请填写授权委托书编号。"]
    assert case_count(institution.engine) == 0


def test_a_group_of_twenty_three_in_person_is_escalated_at_intake_and_bannered(institution, app):
    page = fill_intake(open_page(app, institution.users["clerk"], "intake"))
    page.selectbox(key="intake_major_cause").set_value("group_in_person")
    page = page.run()
    assert any("立即上报客户投诉处理领导小组" in w.value for w in page.warning)  # said before saving
    page.number_input(key="intake_major_people").set_value(23)
    page = save(page.run())
    assert not page.error
    case_no = page.session_state["intake_saved"]
    case = _case(institution.engine, case_no=case_no)
    with institution.engine.connect() as conn:
        roles = conn.scalars(select(Escalation.to_role).where(Escalation.case_id == case.id,
                                                              Escalation.rule_key.like("major:%"))).all()
    assert case.major_cause == "group_in_person" and roles == ["leadership_group"]  # securities' top role
    page = open_page(app, institution.users["clerk"], "case", case=case_no)
    assert any("重大消费投诉" in e.value and "23 人" in e.value for e in page.error)


def _decided_transfer(institution):
    u = institution.users
    ref = institution.intake(source="nfra_12378", regulator_ref="12378-2026-0042", transferred_on=date(2026, 11, 1),
                             agent_name="王律师", agent_authorisation="委托书 118 号")
    with institution.uow() as uow:
        ref = cases.forward(uow, u["clerk"], ref.case_no, ref.version, department="branch", handler_id=u["handler"],
                            handling_form="请核实", at=at("2026-11-02 11:00"))
    with institution.uow() as uow:
        ref = cases.resolve(uow, u["handler"], ref.case_no, ref.version, fact_finding="委托未成交系柜员操作失误",
                            measures="赔偿差价并致歉", accountability="通报批评", at=at("2026-11-04 10:00"))
    with institution.uow() as uow:
        return cases.feedback(uow, u["clerk"], ref.case_no, ref.version, method="电话", satisfaction=4,
                              at=at("2026-11-04 15:00"))


def test_the_reply_package_page_shows_every_required_field(institution, app):
    ref = _decided_transfer(institution)
    page = open_page(app, institution.users["clerk"], "reply", case=ref.case_no)
    assert not page.exception and not page.error
    html = page.get("html")[0].proto.body
    for value in ("金融监管总局 / 12378", "12378-2026-0042", "2026-11-01", "2026-11-02 10:00",  # source, ref, dates
                  "营业部柜员办理业务出错，要求更正",  # the complaint: the case summary
                  "委托未成交系柜员操作失误", "赔偿差价并致歉", "2026-11-04 10:00",  # the decision
                  "2026-11-04 15:00", "电话", "告知方式（证明）", "未记录",  # notification proof, none recorded yet
                  "王律师", "委托书 118 号"):
        assert value in html, value
    assert len(page.get("download_button")) == 2  # the printable page and the xlsx


def test_the_case_page_records_the_reply_sent(institution, app):
    ref = _decided_transfer(institution)
    page = open_page(app, institution.users["clerk"], "case", case=ref.case_no)
    assert any("12378-2026-0042" in i.value for i in page.info)
    assert any("王律师" in m.value and "委托书 118 号" in m.value for m in page.markdown)  # the agent (art. 12)
    page.text_input(key="rr_method").input("监管系统报送")
    page = next(b for b in page.button if b.key == "action_regulator_reply").click().run()
    assert not page.error
    assert page.success[0].value == "已完成：登记已回复监管。"
    assert any("监管系统报送" in c.value for c in page.caption)


def test_an_own_case_has_no_reply_package(institution, app):
    ref = institution.intake()
    page = open_page(app, institution.users["clerk"], "reply", case=ref.case_no)
    assert page.error and "不是监管转办件" in page.error[0].value


def test_the_queue_and_the_board_mark_transfers_and_major_complaints(institution, app):
    ref = institution.intake(source="petition", regulator_ref="信访-7", transferred_on=date(2026, 11, 1),
                             major_cause="accident")
    page = open_page(app, institution.users["clerk"], "queue", view="first_responder")
    table = page.dataframe[0].value
    row = table[table["case"].str.endswith(ref.case_no)].iloc[0]
    assert (row["transfer"], row["major_complaint"]) == ("信访", "安全事故")
    page = open_page(app, institution.users["head"], "escalation")
    table = page.dataframe[0].value
    row = table[table["case"].str.endswith(ref.case_no)].iloc[0]
    assert (row["transfer"], row["major_complaint"]) == ("信访", "安全事故")
    assert row["reason"].startswith("重大消费投诉")


def test_the_kpi_page_counts_transfers_by_source_and_marks_them_in_the_drill_down(institution, app):
    ref = institution.intake(source="nfra_12378", regulator_ref="12378-1", transferred_on=date(2026, 11, 1))
    institution.intake()
    page = open_page(app, institution.users["supervisor"], "kpi")
    assert not page.exception
    drill = page.dataframe[1].value
    marks = dict(zip(drill["投诉编号"], drill["监管转办"], strict=True))
    assert marks[f"case?case={ref.case_no}"] == "金融监管总局 / 12378"
    page = open_tab(page, "kpi_tab", "监管转办")
    by_source = next(d.value for d in page.dataframe if "来源" in d.value.columns)
    counts = dict(zip(by_source["来源"], by_source["受理件数"], strict=True))
    assert (counts["本机构渠道"], counts["金融监管总局 / 12378"], counts["信访"]) == (1, 1, 0)


def test_the_sampled_cases_mark_transfers(institution, app, clock):
    from datetime import timedelta

    ref = institution.intake(received_at=at("2026-11-02 10:00"), resolved_at_intake=True, explanation="已当场解释",
                             satisfaction=5, source="csrc_12386", regulator_ref="12386-3",
                             transferred_on=date(2026, 11, 1))
    with institution.uow() as uow:
        cases.archive(uow, institution.users["clerk"], ref.case_no, ref.version)
    page = open_page(app, institution.users["supervisor"], "sampling")
    today = clock.at.date()
    page.date_input(key="sp_period").set_value((today - timedelta(days=1), today + timedelta(days=1)))
    page.number_input(key="sp_rate").set_value(1.0)
    page = next(b for b in page.run().button if b.label == "执行抽取").click().run()
    items = next(d for d in page.dataframe if "transfer" in d.value.columns).value
    assert list(items["transfer"]) == ["证监会 / 12386"]


def test_the_reply_package_and_a_major_case_read_in_english(institution, app):
    from tests.app.test_english import allowed, found_chinese, screen_texts

    ref = _decided_transfer(institution)
    with institution.uow() as uow:
        from services.casework import transfers

        transfers.record_reply(uow, institution.users["clerk"], ref.case_no, ref.version, sent_on=date(2026, 11, 5),
                               method="regulator's system")
    grave = institution.intake(major_cause="group_in_person", major_people=25, source="other_regulator",
                               regulator_ref="R-1", transferred_on=date(2026, 11, 2))
    typed = {*allowed(institution), "委托未成交系柜员操作失误", "赔偿差价并致歉", "王律师", "委托书 118 号", "请核实",
             "电话", "通报批评"}
    for page, case_no in (("reply", ref.case_no), ("case", grave.case_no), ("case", ref.case_no)):
        screen = app(institution.users["clerk"], lang="en")
        screen.query_params["case"] = case_no
        screen = screen.switch_page(f"../pages/{page}.py").run()
        assert not screen.exception
        found = found_chinese(screen_texts(screen), typed)
        assert not found, "\n".join(found)
