"""A question typed while a chat form waits for an answer is answered (the FAQ answer or the field's help),
then the form asks again; it is never taken as the answer. 转人工 pauses the form; 取消/退出/算了 always
leave it (issue 20 e). Through the real backend, action server and Rasa server."""

import pytest

pytestmark = pytest.mark.slow

CREDIT_Q = "单位的统一社会信用代码是？"
ADDRESS_Q = "档案转寄地址是？"


def asks_again(reply: str, question: str) -> bool:
    """The reply ends with the form's question (its choice buttons may follow)."""
    return question in reply.rsplit("我们接着填", 1)[-1]


def test_questions_in_the_destination_form(chat):
    s = "2025000001"
    assert "毕业去向类型" in chat("帮我填毕业去向登记", student=s)
    assert "单位名称是？" in chat("签就业协议形式就业", student=s)
    # a free-text field: the question is not the unit's name; a Chinese name is
    reply = chat("这个要填什么", student=s)
    assert "“单位名称”是学校平台“毕业去向登记”里要填写的一项" in reply and asks_again(
        reply, "单位名称是？"
    ), reply
    assert "单位所在地是？" in chat("小米科技有限责任公司", student=s)
    assert "单位详细地址是？" in chat("北京市海淀区", student=s)
    assert CREDIT_Q in chat("北京市海淀区西二旗中路33号", student=s)
    reply = chat("这个代码是营业执照上的哪一串", student=s)
    assert "统一社会信用代码是18位" in reply and asks_again(reply, CREDIT_Q), reply
    assert "填写有误" not in reply and "统一社会信用代码：" not in reply, (
        reply
    )  # not rejected as a malformed code
    reply = chat("等一下，我先问个问题", student=s)
    assert "你问吧" in reply and asks_again(reply, CREDIT_Q) and "统一社会信用代码：" not in reply, reply
    reply = chat("为什么要填这个", student=s)
    assert "“统一社会信用代码”是学校平台“毕业去向登记”里要填写的一项" in reply and asks_again(
        reply, CREDIT_Q
    ), reply
    # 转人工 pauses the form: the question is not asked again at once, the next message is not an answer
    reply = chat("转人工", student=s)
    assert "人工服务" in reply and "正在填写的表先暂停" in reply and CREDIT_Q not in reply, reply
    reply = chat("取消排队", student=s)
    assert CREDIT_Q not in reply, reply
    # the answers stay: the form goes on where it was
    reply = chat("继续填写毕业去向登记", student=s)
    assert reply.rstrip().endswith(CREDIT_Q + "（18位，在营业执照或调档函上）"), reply
    assert "单位所属行业是？" in chat("91110108551385082Q", student=s)
    assert "先不填了" in chat("取消", student=s)
    assert "单位所属行业" not in chat("我的毕业去向登记现在什么状态", student=s)


def test_questions_in_the_archive_form(chat):
    s = "2025000002"
    assert "档案转寄类型" in chat("帮我填户档信息", student=s)
    assert "审核材料" in chat("签约单位接收", student=s)
    reply = chat("调档函是什么", student=s)  # names a choice, asks about it: not the answer "什么"
    assert asks_again(reply, "你提供的是哪一种？") and "审核材料：" not in reply, reply
    assert "档案转寄单位的名称是？" in chat("就业单位调档函", student=s)
    # a question about the student's own case inside the form: the case, then the same question
    reply = chat("我还缺什么", student=s)
    assert "户档信息登记：还没有开始填写" in reply and reply.rstrip().endswith("档案转寄单位的名称是？"), (
        reply
    )
    assert ADDRESS_Q in chat("小米科技有限责任公司", student=s)
    reply = chat("档案转寄地址可以写学校吗", student=s)
    assert "精确到街道或门牌号" in reply and asks_again(reply, ADDRESS_Q), reply
    reply = chat("等等", student=s)
    assert "你问吧" in reply and asks_again(reply, ADDRESS_Q), reply
    assert "邮政编码是？" in chat("北京市海淀区西二旗中路33号小米科技园", student=s)
    reply = chat("邮编不知道怎么查", student=s)
    assert "6位数字" in reply and asks_again(reply, "邮政编码是？"), reply
    assert "档案接收联系人是谁？" in chat("100085", student=s)
    reply = chat("联系人可以填我自己吗", student=s)
    assert "不能是毕业生本人或家属" in reply and asks_again(reply, "档案接收联系人是谁？"), reply
    assert "联系人的联系电话是？" in chat("周敏", student=s)
    assert "先不填了" in chat("退出", student=s)


@pytest.mark.parametrize("stop", ["取消", "算了", "退出", "不填了"])
def test_a_stop_word_always_leaves_the_profile_form(chat, stop):
    s = "2025000001"
    assert "你的政治面貌是？" in chat("帮我填写个人信息", student=s)
    assert "你的生源所在地是？" in chat("群众", student=s)
    reply = chat(stop, student=s)
    assert "先不填了" in reply and "生源所在地" not in reply, reply
