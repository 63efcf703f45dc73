"""Texts of the demo institution's complaints (issue 3 §4): templates per pack and category.

Placeholders are filled by `demo.loader` with Faker zh_CN values: {branch} outlet or branch office,
{staff} an employee's surname, {amount} CNY, {date} a day, {product}, {tail} last digits of a card
or account, {minutes}, {topic} the category's label. Unused placeholders are simply ignored.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from faker import Faker

# How often complaints arrive by each channel, and the customers' satisfaction (5 = very satisfied).
CHANNEL_MIX = {"phone": 30, "walk_in": 22, "online": 14, "email": 6, "letter": 5, "upper_level": 5,
               "comment_book": 4, "regulator": 3, "fax": 2, "media": 2}
# The JR/T 0169 cause a demo bank case is filed with where its facts suggest none (RULES.md §7.4)
JRT_CAUSES = {"deposit": "C05", "loan": "C11", "card": "C11", "payment_settlement": "C02", "cash": "C01",
              "personal_information": "C10", "other": "C13"}
SATISFACTION_MIX = {5: 35, 4: 35, 3: 15, 2: 10, 1: 5}

COMPLAINTS: dict[str, dict[str, tuple[str, ...]]] = {
    "bank": {
        "deposit": (
            "客户反映{date}在{branch}办理定期存款提前支取，柜员未说明利息按活期计算，损失利息约{amount}元，要求补偿。",
            "客户称其尾号{tail}的储蓄卡{date}无故被冻结，到{branch}询问无人能说明原因，要求立即解冻并道歉。",
            "客户反映在{branch}存入现金后存单金额与实际不符，差额{amount}元，要求核实更正。",
        ),
        "loan": (
            "客户反映{branch}客户经理{staff}在办理房贷时捆绑销售保险，未经同意收取费用{amount}元，要求退还。",
            "客户称已于{date}提前结清经营贷款，但征信报告仍显示逾期记录，影响其再次贷款，要求更正征信。",
            "客户反映贷款审批拖延近两个月无答复，{branch}工作人员态度推诿，要求给出明确结论。",
        ),
        "card": (
            "客户反映尾号{tail}的信用卡{date}被盗刷{amount}元，本人从未授权，要求银行先行赔付。",
            "客户称信用卡年费在未告知的情况下被扣收{amount}元，开卡时客户经理承诺终身免年费，要求退还。",
            "客户反映ATM机吞卡后{branch}要求三个工作日后才能领取，客户急需用卡，对处理方式不满。",
        ),
        "payment_settlement": (
            "客户反映{date}通过手机银行跨行转账{amount}元，显示成功但对方至今未到账，多次查询无果。",
            "客户称办理对公账户开户被{branch}要求提供过多材料，耗时三周仍未办完，影响企业经营。",
            "客户反映快捷支付被重复扣款{amount}元，联系客服后承诺退款但至今未退。",
        ),
        "cash": (
            "客户反映在{branch}取款时收到残缺人民币，柜员拒绝兑换，要求按规定兑换并道歉。",
            "客户称{date}在{branch}存款时柜员认定其中一张百元为假币并收缴，未出具收缴凭证，要求说明。",
            "客户反映{branch}以零钱兑换需预约为由拒绝为其兑换硬币，要求整改。",
        ),
        "personal_information": (
            "客户反映近期频繁接到推销电话，对方能准确说出其在{branch}的存款信息，怀疑银行泄露个人信息。",
            "客户称未经本人同意，其个人信息被用于开通{product}，要求注销并说明信息来源。",
            "客户反映{branch}大堂经理将其身份证复印件随意放置在公共区域，担心信息泄露。",
        ),
        "other": (
            "客户反映{branch}排队等候超过{minutes}分钟，仅开放一个窗口，大堂无人引导，服务体验差。",
            "客户称{branch}保安态度恶劣，在其询问业务时出言不逊，要求道歉。",
            "客户反映{branch}无障碍通道被杂物堵塞，老年客户办理业务极为不便。",
        ),
    },
    "futures": {
        "brokerage": (
            "客户反映{date}其账户被强行平仓，公司未按约定提前通知追加保证金，造成损失{amount}元，要求赔偿。",
            "客户称手续费收取标准与开户时客户经理{staff}承诺不一致，多收手续费约{amount}元，要求退还。",
            "客户反映出金申请两天仍未到账，{branch}营业部解释不清，要求尽快处理。",
        ),
        "technical_system": (
            "客户反映{date}夜盘期间交易软件登录失败约{minutes}分钟，无法平仓，造成损失{amount}元，要求说明原因并赔偿。",
            "客户称行情软件报价延迟，成交价与下单时显示价格偏差较大，要求核查系统日志。",
            "客户反映手机交易终端频繁闪退，多次反馈未解决，要求公司给出修复时间。",
        ),
        "service_quality": (
            "客户反映拨打客服热线等待超过{minutes}分钟无人接听，对服务质量不满。",
            "客户称{branch}营业部工作人员对其咨询的保证金计算问题答复错误，导致其判断失误。",
            "客户反映开户回访电话过于频繁，影响正常生活，要求停止打扰。",
        ),
        "staff_misconduct": (
            "客户反映客户经理{staff}私下承诺保本收益并代客操作，造成亏损{amount}元，要求公司追责赔偿。",
            "客户称居间人以公司名义向其推荐场外配资，怀疑涉嫌违规，要求公司调查。",
            "客户反映员工{staff}在微信群内发布带单信息并收取费用，要求公司核实处理。",
        ),
    },
    "branch": {
        "A": (
            "客户反映{branch}营业部办理账户销户流程繁琐，往返三次仍未办结，要求简化流程。",
            "客户称营业大厅空调损坏多日无人维修，环境闷热，老年客户身体不适。",
            "客户反映营业部临时调整业务办理时间未提前公告，白跑一趟。",
        ),
        "B": (
            "客户反映其交易佣金高于同类客户，客户经理{staff}开户时承诺的万分之{tail}未兑现，要求调整并退还差额{amount}元。",
            "客户称营业部未经同意将其账户调整为投顾服务模式并收取服务费{amount}元，要求退还。",
            "客户对营业部取消现场报单服务方式不满，要求恢复。",
        ),
        "C": (
            "客户反映{date}开盘后网上交易系统无法下单约{minutes}分钟，错过卖出时机，损失约{amount}元。",
            "客户称营业部行情显示屏长时间停止刷新，无人处理，影响其判断。",
            "客户反映电话委托系统{date}故障，委托未能成功申报，要求说明原因。",
        ),
        "D": (
            "客户反映柜员{staff}业务不熟练，办理三方存管变更时操作失误，导致资金无法转出两天。",
            "客户称客户经理{staff}服务态度恶劣，在客户询问时不耐烦并挂断电话，要求道歉。",
            "客户反映员工{staff}错误录入委托数量，造成损失{amount}元，要求营业部赔偿。",
        ),
        "E": (
            "客户不熟悉{product}的申购规则，认为申购失败是系统问题，要求营业部解释。",
            "客户对新股中签后缴款规则不了解，未按时缴款导致弃购，要求营业部负责。",
            "客户不清楚融资融券维持担保比例规则，对被平仓有异议。",
        ),
        "F": (
            "客户要求营业部承担其自主交易的全部亏损{amount}元，否则将持续投诉。",
            "客户要求营业部为其提供内幕消息并保证收益，被拒后投诉服务态度。",
            "客户要求营业部立即恢复其已因违规被限制的交易权限，不接受任何解释。",
        ),
    },
    "securities": {
        "internal_management": (
            "客户反映{branch}营业部对其开户资料保管不善，身份证复印件遗失，担心被冒用。",
            "客户称营业部多名员工相互推诿，其提出的账户异常问题一个月未落实责任人。",
            "客户反映营业部未按规定对其进行适当性回访即开通{product}权限。",
        ),
        "staff_operation": (
            "客户反映营业部柜员{staff}办理转托管时录入错误，股票{date}至今未转入新券商，要求尽快更正。",
            "客户称营业部人员代其办理撤单时操作失误，导致成交损失{amount}元，要求赔偿。",
            "客户反映营业部在未核实身份的情况下为他人办理其账户密码重置，要求彻查。",
        ),
        "customer_service": (
            "客户反映营业部客服电话长期无人接听，{date}至今反映的问题未获答复。",
            "客户称营业部客户经理{staff}离职后无人交接服务，其咨询无人回应。",
            "客户反映营业部现场等待超过{minutes}分钟，工作人员态度冷淡。",
        ),
        "consulting_information": (
            "客户反映营业部推送的研究资讯存在明显错误，据此操作亏损{amount}元，要求说明。",
            "客户称投资顾问{staff}在推荐{product}时夸大收益、未充分揭示风险，要求退还认购款。",
            "客户反映营业部提供的分红除权信息有误，影响其交易决策。",
        ),
        "branch_system": (
            "客户反映营业部自助终端{date}故障，无法打印对账单，多次反映无人处理。",
            "客户称营业部现场委托系统宕机约{minutes}分钟，期间无法下单，要求补偿损失{amount}元。",
            "客户反映营业部网络中断导致其现场交易无法进行。",
        ),
        "company_system": (
            "客户反映公司网上交易系统{date}集合竞价期间无法登录，错失交易机会，损失约{amount}元。",
            "客户称公司APP显示持仓与实际不符，担心资金安全，要求核实。",
            "客户反映公司系统差错导致其账户资金被错误冻结{amount}元，要求解冻并赔偿利息。",
        ),
    },
    "consumer_finance": {
        "business": (
            "客户反映已于{date}按时还款{amount}元，系统仍显示逾期并产生罚息，要求更正并删除不良记录。",
            "客户称贷款申请被拒但未告知原因，且多次被要求补充材料，要求说明。",
            "客户反映提前还款后账户未及时结清，仍被自动扣款{amount}元，要求退还。",
        ),
        "service": (
            "客户反映催收人员{staff}频繁拨打其亲友电话并言语威胁，严重影响生活，要求停止并道歉。",
            "客户称在线客服等待超过{minutes}分钟，转人工后问题仍未解决。",
            "客户反映投诉后承诺三日内回复，至今无人联系，对处理结果不满。",
        ),
        "product": (
            "客户反映{product}宣传的日利率与实际年化利率差距很大，认为存在误导，要求退还多收利息{amount}元。",
            "客户称借款时被默认勾选会员服务并扣费{amount}元，要求退费。",
            "客户对提前还款手续费标准有异议，认为合同未明确约定。",
        ),
        "other": (
            "客户认为公司综合融资成本超过法律规定上限，要求按法定标准重新计算并退还{amount}元。",
            "客户反映公司未按监管要求提供纸质合同，要求补发并说明。",
            "客户称其身份信息被他人冒用办理贷款{amount}元，要求公司核实并撤销。",
        ),
    },
}

PRODUCTS = ("稳盈九十天理财", "安享信用卡", "快易贷", "薪享通", "科创板", "创业板", "鑫享会员服务",
            "随借随还", "优选基金组合", "融资融券", "港股通")

HANDLING_FORMS = (
    "请核实客户反映的{topic}问题，调阅相关凭证和录音录像，于时限内联系客户并反馈处理意见。",
    "客户情绪较大，请部门负责人牵头核查{topic}问题，明确责任人，按期办结。",
    "请调查核实后提出处理意见，涉及赔偿的须取得客户签字确认。",
)
FIRST_CONTACTS = (
    "已致电客户，说明已受理及处理进度，客户表示理解并同意等待处理结果。",
    "已联系客户约定面谈时间，初步了解诉求，正在调取相关记录。",
    "已短信及电话告知客户承办人和联系方式，客户要求尽快处理。",
)
FACT_FINDINGS = (
    "经调阅业务凭证、系统日志及录音录像，客户反映的情况基本属实，系{staff}操作不规范所致。",
    "经核查，客户反映的问题部分属实：业务办理符合规定，但告知义务履行不到位。",
    "经核实，相关业务处理符合制度规定，客户因不了解规则产生误解，已向其详细解释。",
    "经调查，问题系系统参数设置错误所致，已于当日修复，受影响客户已逐一核对。",
)
MEASURES = (
    "向客户当面致歉，纠正错误记录并书面告知客户",
    "向客户道歉并退还相关费用，完善业务提示流程",
    "详细解释业务规则，提供书面说明材料，改进服务流程",
    "协调相关部门更正记录，对客户损失予以补偿",
)
ACCOUNTABILITY = (
    "对责任人{staff}进行批评教育，扣减当月绩效；部门组织专题培训",
    "责成部门负责人在部门例会上作出说明，全员学习相关制度",
    "经核实员工无过错，不予追责；部门完善告知流程",
    "对责任部门通报批评，责任人{staff}书面检查",
)
SIGNED = ("客户已在赔偿协议上签字确认，协议编号 PC-{tail}", "客户签收补偿款并在处理单上签字确认")
FEEDBACK_METHODS = ("电话", "短信", "当面", "书面回函", "电子邮件")
FEEDBACK_NOTES = ("已告知客户处理结果，客户表示接受。", "客户对处理结果基本认可，但对处理时长有意见。",
                  "客户对处理结果不满意，表示保留进一步投诉的权利。", "")
RETURN_VISITS = ("回访客户，确认问题已解决，客户对处理过程表示满意。",
                 "回访客户，客户表示问题已解决，建议加强员工培训。",
                 "回访未能接通，次日再次回访，客户确认已收到补偿。")
EXTENSION_REASONS = ("案情复杂，需调取多部门业务记录并核对监控录像", "需等待合作机构出具书面核查结果",
                     "涉及金额较大，需经审批后确定处理方案")
ESCALATION_REASONS = ("客户情绪激动，扬言向监管部门和媒体反映", "同一客户短期内多次投诉，需上级协调处理",
                      "涉及金额较大且责任难以认定，提请上级决策")
WITHDRAW_REASONS = ("客户来电表示问题已自行解决，撤回投诉", "客户与网点协商一致，主动撤回投诉",
                    "客户表示误会已消除，不再追究")
INVALID_EXPLANATIONS = ("投诉无明确被投诉对象和具体诉求，已向客户说明受理范围",
                        "客户对业务规则存在误解，已解释相关规定，不属于有效投诉",
                        "客户反映事项与本机构业务无关，已告知正确的反映渠道")
AT_INTAKE_EXPLANATIONS = ("当场向客户解释了业务规则和收费标准，客户表示理解，不再就此事投诉",
                          "当场为客户查询并说明了交易明细，客户接受解释",
                          "向客户说明了办理流程并当场协助办结，客户满意")
RE_COMPLAINTS = ("客户对{case_no}的处理结果不满意，认为补偿不足，再次投诉。",
                 "客户称{case_no}反映的问题仍未解决，要求上级部门介入。",
                 "客户对{case_no}的处理态度不满，再次来电投诉。")


def words(fake: Faker, rng: random.Random, pack: str, topic: str, claim: Decimal, received_at: datetime
          ) -> dict[str, Any]:
    """The values a case's texts are filled with, drawn once per case so its texts agree."""
    day = received_at - timedelta(days=rng.randrange(10))
    return {"branch": f"{fake.district()}支行" if pack == "bank" else f"{fake.city_name()}营业部",
            "staff": fake.last_name(), "tail": fake.numerify("####"), "minutes": rng.randrange(20, 95),
            "product": rng.choice(PRODUCTS), "amount": claim or rng.randrange(50, 5000),
            "date": f"{day.month}月{day.day}日", "topic": topic}


def customer(fake: Faker, rng: random.Random) -> dict[str, Any]:
    """An intake form's customer fields; ID and account numbers are optional (RULES.md §2)."""
    return {"customer_name": fake.name(), "customer_phone": fake.phone_number(),
            "customer_id_number": fake.ssn() if rng.random() < 0.7 else None,
            "customer_account_no": fake.numerify("6222############") if rng.random() < 0.6 else None}
