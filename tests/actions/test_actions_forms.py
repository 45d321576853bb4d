"""The three in-chat forms, driven turn by turn through their validation actions against a real backend."""

from actions.forms.gen_domain import main as gen_main
from actions.forms.spec import ARCHIVE, DESTINATION, PROFILE
from actions.forms.validate import (
    ActionCorrectField,
    ValidateArchiveForm,
    ValidateDestinationForm,
    ValidateProfileForm,
)
from tests.actions.helpers import Chat, make_tracker, run_action, texts


def test_domain_file_is_generated_from_spec(monkeypatch):
    monkeypatch.setattr("sys.argv", ["gen_domain", "--check"])
    assert gen_main() == 0


def test_form_without_sign_in_does_nothing(backend):
    c = Chat(ValidateProfileForm(), None, PROFILE)
    out = c.start()
    assert "登录" in out and c.asking is None


def test_form_with_forged_token(backend):
    c = Chat(ValidateDestinationForm(), "a.b.c", DESTINATION)
    out = c.start("fill_destination")
    assert "重新登录" in out and c.asking is None


def test_reviewed_record_is_locked(backend):
    c = Chat(ValidateDestinationForm(), backend.token("2025000005"), DESTINATION)
    out = c.start("fill_destination")
    assert "已经通过辅导员审核" in out and "改签申请" in out and c.asking is None


def test_profile_validate_correct_pause_resume_confirm(fresh_backend):
    b = fresh_backend
    c = Chat(ValidateProfileForm(), b.token("2025000001"), PROFILE)
    out = c.start()
    assert "个人信息完善" in out and c.asking == "profile_political_status" and "政治面貌" in out
    c.say("党员")
    assert c.slots["profile_political_status"] == "中共党员" and c.asking == "profile_origin_place"
    out = c.say("东城区")  # no province: the backend's reason, asked again
    assert "省份" in out and c.asking == "profile_origin_place" and c.slots["profile_origin_place"] is None
    c.say("北京市 东城区")
    c.say("不是")
    assert c.slots["profile_hardship_category"] == "非困难生"
    out = c.say("1381234567")  # 10 digits
    assert c.asking == "profile_mobile" and "手机" in out
    c.say("13812345678")
    c.say("zhangwei@example.com")
    # stop: the validation action lets the form reject, the rule pauses it; answers stay
    assert c.say("先不填了", "stop_form") == "" and c.slots["profile_mobile"] == "13812345678"
    # come back later: the form asks the next missing question
    c.slots["requested_slot"] = None
    out = c.start()
    assert "继续填写" in out and c.asking == "profile_wechat"
    c.say("13812345678")
    # correct an earlier field
    out = c.say("邮箱填错了", "correct_field")
    assert c.asking == "profile_email" and c.slots["profile_email"] is None and "邮箱" in out
    c.say("zw2025@example.com")
    assert c.asking == "profile_counselor_name"
    c.say("李华")
    c.say("1班")
    c.say("张建国")
    out = c.say("13812345678")  # same as own mobile: refused by the backend
    assert c.asking == "profile_emergency_contact_phone" and "不能与本人手机号相同" in out
    out = c.say("13987654321")
    assert c.asking == "profile_confirm" and "zw2025@example.com" in out and "确认提交" in out
    # nothing saved before the confirmation
    assert b.get("/api/me/profile", "2025000001").get("mobile") in (None, "")
    # inline correction at the summary
    out = c.say("手机号改成13811112222", "correct_field")
    assert c.slots["profile_mobile"] == "13811112222" and c.asking == "profile_confirm"
    out = c.say("确认提交", "affirm")
    assert "已保存提交" in out and c.asking is None
    prof = b.get("/api/me/profile", "2025000001")
    flat = str(prof)
    assert "13811112222" in flat and "zw2025@example.com" in flat and "中共党员" in flat


def test_profile_decline_keeps_answers(fresh_backend):
    b = fresh_backend
    c = Chat(ValidateProfileForm(), b.token("2025000001"), PROFILE)
    c.start()
    for v in [
        "群众",
        "河北省 石家庄市",
        "非困难生",
        "13812345678",
        "a@example.com",
        "wx_zhangwei",
        "李华",
        "2班",
        "张建国",
        "13987654321",
    ]:
        c.say(v)
    assert c.asking == "profile_confirm"
    out = c.say("先不提交", "deny")
    assert "先不提交" in out and c.asking is None and c.slots["profile_mobile"] == "13812345678"
    assert "13812345678" not in str(b.get("/api/me/profile", "2025000001"))


def test_destination_unit_form_submits(fresh_backend):
    b = fresh_backend
    c = Chat(ValidateDestinationForm(), b.token("2025000001"), DESTINATION)
    c.start("fill_destination")
    c.say("签三方了")
    assert c.slots["dest_type"] == "签就业协议形式就业" and c.asking == "dest_unit_name"
    c.say("北京示例科技有限公司")
    c.say("北京市海淀区")
    c.say("北京市海淀区中关村大街1号")
    out = c.say("91350100M000100Y44")  # wrong check character
    assert c.asking == "dest_unit_credit_code" and "校验位" in out
    c.say("91350100M000100Y43")
    c.say("互联网")
    assert c.slots["dest_unit_industry"] == "信息传输、软件和信息技术服务业"
    c.say("民营企业")
    c.say("工程技术人员")
    c.say("王经理")
    c.say("010-62345678")
    out = c.say("无")
    assert c.asking == "dest_confirm" and "北京示例科技有限公司" in out
    out = c.say("确认", "affirm")
    assert "已提交“毕业去向登记”" in out
    rec = b.get("/api/me/destination", "2025000001")
    assert rec["state"] == "submitted" and rec["unit"]["credit_code"] == "91350100M000100Y43"


def test_destination_non_unit_type_skips_unit_questions(fresh_backend):
    c = Chat(ValidateDestinationForm(), fresh_backend.token("2025000001"), DESTINATION)
    c.start("fill_destination")
    out = c.say("考上研究生了")
    assert c.asking == "dest_confirm" and "境内升学" in out


def test_resubmission_after_rejection_prefills_and_names_reason(fresh_backend):
    c = Chat(ValidateDestinationForm(), fresh_backend.token("2025000003"), DESTINATION)
    out = c.start("fill_destination")
    assert "组织机构代码与单位名称不一致" in out and c.asking == "dest_confirm"
    out = c.say("信用代码填错了", "correct_field")
    assert c.asking == "dest_unit_credit_code"


def test_archive_form(fresh_backend):
    b = fresh_backend
    out = Chat(ValidateArchiveForm(), b.token("2025000001"), ARCHIVE).start("fill_archive")
    assert "请先完成“毕业去向登记”" in out
    c = Chat(ValidateArchiveForm(), b.token("2025000002"), ARCHIVE)
    c.start("fill_archive")
    c.say("签约单位接收")
    assert c.asking == "archive_evidence"
    c.say("有就业单位调档函")
    c.say("北京示例科技有限公司")
    out = c.say("北京市海淀区")  # not precise
    assert c.asking == "archive_address" and "门牌号" in out
    c.say("北京市海淀区中关村大街1号示例大厦5层")
    out = c.say("200000")  # Shanghai postal code for a Beijing address
    assert c.asking == "archive_postal_code"
    c.say("100080")
    c.say("刘人事")
    c.say("010-62345678")
    c.say("户口没迁")
    assert c.slots["archive_hukou_choice"] == "户口未迁入学校" and c.asking == "archive_hukou_transfer_type"
    out = c.say("签约单位接收")
    assert c.asking == "archive_confirm" and "就业单位调档函" in out
    out = c.say("对", "affirm")
    assert "已提交“户档信息登记”" in out
    rec = b.get("/api/me/archive", "2025000002")
    assert rec["state"] == "submitted" and rec["hukou_choice"] == "not_moved_in"


def test_handoff_inside_form_passes_through_and_form_reasks(backend):
    c = Chat(ValidateProfileForm(), backend.token("2025000001"), PROFILE)
    c.start()
    assert c.say("转人工", "handoff") == ""
    t = make_tracker(
        "转人工",
        "handoff",
        backend.token("2025000001"),
        slots=c.slots,
        active_loop="profile_form",
        latest_action="profile_form",
    )
    # as Rasa 3.6 sends it: ... user, action_handoff, bot, then the form's own action event
    t.events += [
        {"event": "action", "name": "action_handoff"},
        {"event": "bot", "text": "老师电话"},
        {"event": "action", "name": "profile_form"},
    ]
    msgs, ev = run_action(ValidateProfileForm(), t)
    assert "政治面貌" in texts(msgs)


def test_correction_outside_form_reopens_or_advises(backend):
    t = make_tracker(
        "手机号填错了", "correct_field", backend.token("2025000001"), slots={"profile_mobile": "13812345678"}
    )
    msgs, ev = run_action(ActionCorrectField(), t)
    # the rules reopen the form (data/rules/forms.yml, tests/stories/test_forms.yml): no routing in the action
    slots = [{k: e.get(k) for k in ("name", "value")} for e in ev if e.get("event") == "slot"]
    assert {"name": "reopen_form", "value": "profile_form"} in slots
    assert {"name": "profile_mobile", "value": None} in slots
    assert msgs == [] and not [e for e in ev if e.get("event") == "followup"]
    msgs, ev = run_action(
        ActionCorrectField(),
        make_tracker("单位详细地址填错了", "correct_field", slots={"reopen_form": "profile_form"}),
    )
    assert "毕业去向修改（单位不变）" in texts(msgs) and "改签申请" not in texts(msgs)
    assert [{k: e.get(k) for k in ("name", "value")} for e in ev] == [{"name": "reopen_form", "value": None}]


def test_activation_with_stale_requested_slot_from_an_old_session(backend):
    """requested_slot carries over into a new session; the ActiveLoop event marks the activation."""
    slots = {"requested_slot": "profile_mobile", "profile_political_status": "群众"}
    t = make_tracker(
        "帮我填个人信息", "fill_profile", backend.token("2025000001"), slots=slots, active_loop="profile_form"
    )
    t.events.append({"event": "active_loop", "name": "profile_form", "timestamp": 0})
    msgs, ev = run_action(ValidateProfileForm(), t)
    assert "继续填写" in texts(msgs)
    assert {"event": "slot", "name": "requested_slot", "value": "profile_origin_place"} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in ev
    ]


def test_paused_and_finished_actions():
    from actions.forms.validate import ActionFormFinished, ActionFormPaused

    msgs, ev = run_action(ActionFormPaused(), make_tracker("先不填了", "stop_form"))
    assert "保留" in texts(msgs) and ev == []
    msgs, ev = run_action(ActionFormFinished(), make_tracker("确认", "affirm"))
    assert msgs == [] and ev == []


def test_plain_answer_misread_as_correction_still_answers(backend):
    c = Chat(ValidateProfileForm(), backend.token("2025000001"), PROFILE)
    c.start()
    for v in ["群众", "北京市 东城区", "非困难生", "13812345678"]:
        c.say(v)
    assert c.asking == "profile_email"
    c.say("zw@example.com", "correct_field")
    assert c.slots["profile_email"] == "zw@example.com" and c.asking == "profile_wechat"
    c.say("我的微信是wx_zhangwei1", "correct_field")
    assert c.slots["profile_wechat"] == "wx_zhangwei1"


def test_profile_after_approval_becomes_a_change_request(fresh_backend):
    b = fresh_backend
    c = Chat(ValidateProfileForm(), b.token("2025000005"), PROFILE)
    out = c.start()
    if c.asking != "profile_confirm":  # fill whatever the seed left empty
        for v in [
            "群众",
            "上海市 浦东新区",
            "非困难生",
            "13812345678",
            "a@example.com",
            "wx_chenjing",
            "李华",
            "2班",
            "陈大明",
            "13987654321",
        ]:
            if c.asking == "profile_confirm":
                break
            c.say(v)
    c.say("政治面貌填错了", "correct_field")
    assert c.asking == "profile_political_status"
    c.say("中共预备党员")
    assert c.asking == "profile_confirm"
    out = c.say("确认提交", "affirm")
    assert "变更申请" in out, out
    import httpx

    r = httpx.get(
        b.url + "/api/me/change-requests", headers={"Authorization": f"Bearer {b.token('2025000005')}"}
    )
    assert "personal_info" in r.text and "中共预备党员" in r.text


def test_trigger_while_open_repeats_question(backend):
    c = Chat(ValidateProfileForm(), backend.token("2025000001"), PROFILE)
    c.start()
    c.say("群众")
    out = c.say("继续填写个人信息", "fill_profile")
    assert "正在填写" in out and "生源所在地" in out and c.asking == "profile_origin_place"
    assert c.say("查一下我的进度", "check_status") == ""  # the rule answers, then the form re-asks


def test_pause_action_only_pauses():
    """ "先不提交" while the mailing details are shown is routed by a rule (data/rules/mailing.yml, test story
    tests/stories/test_mailing.yml) to action_mailing_cancel: the pause action itself routes nothing."""
    from actions.forms.validate import ActionFormPaused

    msgs, ev = run_action(
        ActionFormPaused(), make_tracker("先不提交", "stop_form", slots={"mailing_pending": True})
    )
    assert texts(msgs).startswith("好的，先不提交。已经填写的内容我会保留") and ev == []
