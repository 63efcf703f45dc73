"""The one label catalogue: Simplified Chinese first, English one click away.

Codes from the policy packs (categories, departments, grades…) are labelled by the pack data
through `code()`; every other text on screen comes from LABELS.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.text import literal
from services.errors import DomainError
from services.policy import Policy

LANGS = {"zh": "中文", "en": "English"}

LABELS: dict[str, tuple[str, str]] = {
    # shell
    "app.title": ("投诉处理与监督系统", "Complaint handling & supervision"),
    "lang.switch": ("语言", "Language"),
    "nav.home": ("工作台", "Home"),
    "nav.intake": ("投诉登记", "Intake"),
    "nav.queue": ("我的待办", "My queue"),
    "nav.case": ("案件详情", "Case"),
    "nav.escalation": ("升级看板", "Escalation board"),
    "nav.print": ("处理单打印", "Handling form"),
    "nav.sampling": ("监督抽查", "Supervision sampling"),
    "nav.kpi": ("考核", "KPI assessment"),
    "nav.training": ("培训", "Training"),
    "nav.admin": ("系统管理", "Administration"),
    "nav.setup": ("初始设置", "First-run set-up"),
    "nav.signin": ("登录", "Sign in"),
    "section.work": ("日常工作", "Daily work"),
    "section.supervision": ("监督与考核", "Supervision & KPIs"),
    "section.system": ("系统", "System"),
    "user.signed_in_as": ("{name}（{roles}）", "{name} ({roles})"),
    "user.sign_out": ("退出登录", "Sign out"),
    "role.intake": ("受理岗", "Intake"),
    "role.handler": ("处理人", "Handler"),
    "role.dept_head": ("部门负责人", "Department head"),
    "role.supervisor": ("监督/合规", "Supervisor"),
    "role.executive": ("分管领导", "Executive"),
    "role.admin": ("系统管理员", "Administrator"),
    "role.trainee": ("培训学员", "Trainee"),
    "common.saved": ("已保存。", "Saved."),
    "common.not_permitted": ("无权访问此页面。", "You are not permitted to open this page."),
    # sign-in
    "signin.title": ("登录", "Sign in"),
    "signin.username": ("用户名", "Username"),
    "signin.password": ("密码", "Password"),
    "signin.submit": ("登录", "Sign in"),
    "signin.demo": ("演示机构已加载。演示账号（共用密码 {password}）：", "Demo institution loaded. Demo users "
                    "(shared password {password}):"),
    # first-run set-up
    "setup.title": ("初始设置", "First-run set-up"),
    "setup.intro": ("系统尚无管理员。请创建管理员账号并选择本机构使用的政策包。",
                    "There is no administrator yet. Create the admin account and choose the institution's pack."),
    "setup.pack": ("政策包（机构类型）", "Policy pack (kind of institution)"),
    "setup.admin_username": ("管理员用户名", "Admin username"),
    "setup.admin_name": ("管理员姓名", "Admin name"),
    "setup.admin_password": ("管理员密码（至少 8 位）", "Admin password (8 characters or more)"),
    "setup.demo": ("加载演示机构（部门、各角色用户及约 2,000 件投诉）",
                   "Load the demo institution (departments, a user per role, about 2,000 complaints)"),
    "setup.submit": ("完成设置", "Finish set-up"),
    "setup.done": ("设置完成，请登录。", "Set-up finished: sign in."),
    # home
    "home.title": ("工作台", "Home"),
    "home.greeting": ("{name}，您好。今天需要您处理的：", "Hello {name}. What needs you today:"),
    "home.nothing": ("今天没有待办事项。", "Nothing needs you today."),
    "home.assigned_open": ("分派给我的在办案件", "Open cases assigned to me"),
    "home.overdue": ("已超期", "Overdue"),
    "home.at_risk": ("即将超期", "At risk"),
    "home.to_forward": ("待转办", "Waiting to be forwarded"),
    "home.to_feedback": ("待反馈客户", "Waiting for feedback to the customer"),
    "home.to_archive": ("待归档", "Waiting to be archived"),
    "home.department_open": ("本部门在办案件", "Open cases of my department"),
    "home.escalations": ("未确认的升级", "Unacknowledged escalations"),
    "home.reviews": ("待完成的抽查复核", "Sample reviews to complete"),
    "home.actions": ("未关闭的整改事项", "Open rectification actions"),
    "home.calendar_gap": ("未来 60 天内的 {years} 年尚无工作日历数据，期限按周一至周五计算。"
                          "请在“系统管理”中添加节假日。",
                          "The next 60 days reach {years}, which has no calendar data: deadlines fall back to "
                          "Mon–Fri. Add the holidays under Administration."),
    # case vocabulary
    "state.registered": ("已登记", "Registered"),
    "state.forwarded": ("已转办", "Forwarded"),
    "state.in_progress": ("处理中", "In progress"),
    "state.resolved": ("已办结", "Resolved"),
    "state.feedback_given": ("已反馈", "Feedback given"),
    "state.return_visit": ("已回访", "Return visit done"),
    "state.archived": ("已归档", "Archived"),
    "state.withdrawn": ("已撤诉", "Withdrawn"),
    "sla.overdue": ("已超期", "Overdue"),
    "satisfaction.5": ("非常满意", "Very satisfied"),
    "satisfaction.4": ("满意", "Satisfied"),
    "satisfaction.3": ("一般", "Neutral"),
    "satisfaction.2": ("不满意", "Dissatisfied"),
    "satisfaction.1": ("非常不满意", "Very dissatisfied"),
    "field.case_no": ("案件编号", "Case no."),
    "field.state": ("状态", "State"),
    "field.grade": ("等级", "Grade"),
    "field.handling_level": ("处理级别", "Handling level"),
    "field.category": ("投诉类别", "Category"),
    "field.channel": ("投诉渠道", "Channel"),
    "field.customer": ("客户", "Customer"),
    "field.customer_name": ("客户姓名", "Customer name"),
    "field.customer_phone": ("联系电话", "Phone"),
    "field.customer_id_number": ("证件号码（可选）", "ID number (optional)"),
    "field.customer_account_no": ("账户号码（可选）", "Account number (optional)"),
    "field.received_date": ("受理日期", "Received on"),
    "field.received_time": ("受理时间", "Received at"),
    "field.received_at": ("受理时间", "Received at"),
    "field.content": ("投诉内容", "Complaint"),
    "field.compensation_claim": ("索赔金额（元，无则填 0）", "Compensation claimed (CNY, 0 if none)"),
    "field.compensation_paid": ("实际赔偿金额（元）", "Compensation paid (CNY)"),
    "field.cause": ("投诉原因归属", "Cause"),
    "field.flags": ("情形标记", "Flags"),
    "field.assignee": ("处理人", "Handler"),
    "field.first_responder": ("首问责任人", "First responder"),
    "field.department": ("责任部门", "Responsible department"),
    "field.deadline": ("最近期限", "Nearest deadline"),
    "field.sla": ("时效", "SLA"),
    "field.milestone": ("节点", "Milestone"),
    "field.due": ("期限", "Due"),
    "field.original_due": ("原始期限", "Original deadline"),
    "field.met_at": ("完成时间", "Done at"),
    "field.escalate_to": ("上报", "Escalate to"),
    "field.notify": ("通报", "Notify"),
    "field.explanation": ("规则依据", "Why (rules applied)"),
    "field.page": ("页码", "Page"),
    # intake
    "intake.title": ("投诉登记", "Register a complaint"),
    "intake.preview": ("规则预判（保存前）", "What the rules decide (before saving)"),
    "intake.repeat_warning": ("该客户近 12 个月内已投诉 {count} 次：", "This customer complained {count} times in the "
                              "last 12 months:"),
    "intake.as_re_complaint": ("登记为以下案件的再投诉", "Register as a re-complaint of"),
    "intake.new_case": ("（新投诉，不关联）", "(a new complaint, not linked)"),
    "intake.resolved_at_intake": ("当场解决（客户接受解释并表示不再就同一事项投诉）",
                                  "Resolved at intake (the customer accepts and will not complain again)"),
    "intake.explanation": ("向客户所作的解释", "Explanation given to the customer"),
    "intake.satisfaction": ("客户满意度", "Customer satisfaction"),
    "intake.save": ("保存登记", "Save"),
    "intake.saved": ("已登记：{case_no}", "Registered: {case_no}"),
    "intake.open_case": ("打开案件", "Open the case"),
    "intake.another": ("登记下一件", "Register another"),
    # queue
    "queue.title": ("我的待办", "My queue"),
    "queue.view": ("查看", "Show"),
    "queue.view.assigned": ("分派给我的", "Assigned to me"),
    "queue.view.first_responder": ("我首问跟踪的", "I track as first responder"),
    "queue.view.department": ("本部门的", "My department's"),
    "queue.empty": ("没有符合条件的案件。", "No cases match."),
    "queue.total": ("共 {total} 件，第 {page}/{pages} 页", "{total} cases, page {page} of {pages}"),
    # case page
    "case.title": ("案件 {case_no}", "Case {case_no}"),
    "case.pick": ("案件编号", "Case number"),
    "case.facts": ("投诉事实", "Facts"),
    "case.assessment": ("规则判定", "Assessment"),
    "case.deadlines": ("期限", "Deadlines"),
    "case.timeline": ("处理轨迹", "Timeline"),
    "case.actions": ("可执行的操作", "Actions"),
    "case.no_actions": ("当前状态下您没有可执行的操作。", "No action is open to you in this state."),
    "case.reveal": ("显示完整{field}", "Show the full {field}"),
    "case.revealed": ("（已记录查看）", "(this view was logged)"),
    "case.parent": ("原投诉", "Original complaint"),
    "case.system": ("系统", "System"),
    "case.children": ("再投诉", "Re-complaints"),
    "case.escalations": ("升级记录", "Escalations"),
    "case.print": ("打印处理单", "Print the handling form"),
    "case.done": ("已完成：{action}。", "Done: {action}."),
    "case.conflict_kept": ("您填写的内容已保留，请刷新案件后再提交。", "Your input is kept; reload the case and submit "
                           "again."),
    "case.reload": ("刷新案件", "Reload the case"),
    "case.changed": ("该案件已被他人修改：您看到的是修改前的内容。提交将被拒绝，请先刷新。",
                     "Someone else changed this case since you opened it: submitting will be refused; reload first."),
    "action.forward": ("转办", "Forward"),
    "action.first_contact": ("首次联系客户", "First contact"),
    "action.resolve": ("办结", "Resolve"),
    "action.invalid": ("按无效投诉办结", "Close as invalid"),
    "action.feedback": ("反馈客户", "Feedback"),
    "action.return_visit": ("回访", "Return visit"),
    "action.archive": ("归档", "Archive"),
    "action.extend": ("延期", "Extend"),
    "action.escalate": ("升级/上报", "Escalate"),
    "action.withdraw": ("撤诉", "Withdraw"),
    "action.re_complaint": ("再投诉", "Re-complaint"),
    "action.report_hq": ("报备总部", "Report to headquarters"),
    "form.department": ("责任部门", "Department"),
    "form.handler": ("处理人", "Handler"),
    "form.handling_form": ("处理单内容（转办说明）", "Handling form (what to check)"),
    "form.note": ("联系/处理情况", "What was said"),
    "form.fact_finding": ("事实认定", "Fact finding"),
    "form.measures": ("处理措施（道歉/赔偿/纠正/改进服务…）", "Measures (apology, compensation, correction…)"),
    "form.accountability": ("对责任部门和责任人的处理", "Accountability of department and person"),
    "form.signed_confirmation": ("客户签字确认记录（有赔偿时必填）", "Customer's signed confirmation (needed when "
                                 "compensation is paid)"),
    "form.method": ("方式（电话/短信/当面/邮件…）", "Method (phone, SMS, in person, email…)"),
    "form.satisfaction": ("满意度", "Satisfaction"),
    "form.explanation": ("向客户所作的解释", "Explanation to the customer"),
    "form.milestone": ("延期的节点", "Milestone to extend"),
    "form.new_due": ("新期限（当日 24:00）", "New deadline (24:00 of the day)"),
    "form.reason": ("原因", "Reason"),
    "form.informed_at": ("告知客户日期", "Customer told on"),
    "form.informed_method": ("告知客户的方式", "How the customer was told"),
    "form.to_role": ("上报对象", "Escalate to"),
    "form.submit": ("提交", "Submit"),
    # escalation board
    "board.title": ("升级看板", "Escalation board"),
    "board.auto": ("本次自动升级 {count} 件。", "{count} automatic escalations recorded now."),
    "board.empty": ("没有需要关注的案件。", "Nothing needs attention."),
    "board.group": ("{level} · {department}", "{level} · {department}"),
    "board.reason": ("原因", "Why"),
    "board.why.overdue": ("已超期", "overdue"),
    "board.why.at_risk": ("即将超期", "at risk"),
    "board.why.major": ("重大/一级", "major / L1"),
    "board.why.escalated": ("升级未确认", "escalation not acknowledged"),
    "board.finding": ("整改事项", "Finding"),
    "board.acknowledge": ("确认", "Acknowledge"),
    "board.overdue_actions": ("逾期整改事项", "Overdue rectification actions"),
    # supervision sampling
    "sampling.title": ("监督抽查", "Supervision sampling"),
    "sampling.plan": ("抽查计划", "Plan and draw"),
    "sampling.review": ("复核", "Review"),
    "sampling.actions": ("整改跟踪", "Rectification actions"),
    "sampling.period": ("抽查期间（按归档日期）", "Period (by closing date)"),
    "sampling.seed": ("随机种子（留空自动生成并保存）", "Seed (blank: generated and stored)"),
    "sampling.by_confidence": ("按置信水平和误差计算样本量", "Size from confidence level and margin of error"),
    "sampling.confidence": ("置信水平", "Confidence level"),
    "sampling.margin": ("允许误差", "Margin of error"),
    "sampling.rate": ("抽查比例", "Sampling rate"),
    "sampling.min": ("每层最少", "Minimum per stratum"),
    "sampling.max": ("每层最多（0 为不限）", "Maximum per stratum (0: no limit)"),
    "sampling.max_help": ("重大/一级案件全数抽查，不受此限", "Major/L1 cases are all included regardless"),
    "sampling.all_major": ("重大/一级案件全部纳入", "Include all major/L1 cases"),
    "sampling.stratum": ("分层（部门/等级）", "Stratum (department/grade)"),
    "sampling.population": ("总体", "Population"),
    "sampling.census": ("全数纳入", "Taken in full"),
    "sampling.drawn": ("随机抽取", "Drawn"),
    "sampling.draw": ("执行抽取", "Draw the sample"),
    "sampling.drawn_ok": ("已抽取，计划编号 {plan}；复核人已自动分配。", "Drawn: plan {plan}; reviewers assigned."),
    "sampling.no_items": ("没有分配给您的抽查案件。", "No sampled case is assigned to you."),
    "sampling.item": ("抽查案件", "Sampled case"),
    "sampling.done": ("已复核", "reviewed"),
    "sampling.todo": ("待复核", "to review"),
    "sampling.no_actions": ("没有未关闭的整改事项。", "No open rectification action."),
    "review.pass": ("符合", "Pass"),
    "review.fail": ("不符合", "Fail"),
    "review.na": ("不适用", "N/A"),
    "review.note": ("说明", "Note"),
    "review.finding": ("发现的问题（填写则生成整改事项）", "Finding (creates a rectification action)"),
    "review.owner": ("整改责任部门和责任人", "Owner department and person"),
    "review.due": ("整改期限", "Due date"),
    "review.submit": ("提交复核", "Submit the review"),
    "review.action": ("整改事项", "Action"),
    "review.evidence": ("整改证据", "Evidence"),
    "review.close": ("关闭整改事项", "Close the action"),
    "review.visit": ("监督回访：复核人致电客户", "Supervision return visit: the reviewer calls the customer"),
    "review.visit_save": ("保存回访记录", "Save the visit"),
    # KPIs
    "kpi.title": ("考核", "KPI assessment"),
    "kpi.period": ("考核期间", "Period"),
    "kpi.by": ("分组维度", "Group by"),
    "kpi.by.department": ("部门", "Department"),
    "kpi.by.person": ("个人", "Person"),
    "kpi.by.category": ("类别", "Category"),
    "kpi.by.channel": ("渠道", "Channel"),
    "kpi.by.grade": ("等级", "Grade"),
    "kpi.by.all": ("全部", "All"),
    "kpi.tab.table": ("指标", "KPIs"),
    "kpi.tab.trend": ("趋势", "Trend"),
    "kpi.tab.scorecard": ("评分卡", "Scorecards"),
    "kpi.tab.before_after": ("整改前后对比", "Before / after"),
    "kpi.tab.report": ("月度报告", "Monthly report"),
    "kpi.tab.weights": ("权重与目标", "Weights and targets"),
    "kpi.drill_group": ("查看分组", "Group"),
    "kpi.drill_kpi": ("查看指标背后的案件", "Cases behind the KPI"),
    "kpi.drill_count": ("共 {count} 件案件（最多显示 500 件）", "{count} cases (500 shown at most)"),
    "kpi.trend_kpi": ("趋势指标", "KPI"),
    "kpi.month": ("月份", "Month"),
    "kpi.no_data": ("该期间没有数据。", "No data in this period."),
    "kpi.level": ("评分对象", "Score"),
    "kpi.group": ("对象", "Who"),
    "kpi.score": ("得分", "Score"),
    "kpi.breakdown": ("得分构成（每个指标：分子/分母、目标、权重、得分）", "Score breakdown (per KPI: numerator / "
                      "denominator, target, weight, points)"),
    "kpi.pivot": ("整改完成日", "Action closed on"),
    "kpi.days": ("对比天数", "Days on each side"),
    "kpi.report_month": ("报告月份（YYYY-MM）", "Month (YYYY-MM)"),
    "kpi.report_xlsx": ("下载 Excel 报告", "Download the Excel report"),
    "kpi.report_html": ("下载可打印报告", "Download the printable report"),
    "kpi.save_weights": ("保存权重与目标", "Save weights and targets"),
    "kpi.name.volume": ("投诉量", "Volume"),
    "kpi.name.repeat": ("重复投诉", "Repeat complaints"),
    "kpi.name.compensation": ("索赔与赔付", "Compensation"),
    "kpi.name.timeliness": ("处理及时率", "Timeliness"),
    "kpi.name.first_deadline": ("首个期限内办结", "Resolved within the first deadline"),
    "kpi.name.first_contact": ("首次联系及时率", "First contact"),
    "kpi.name.satisfaction": ("满意率", "Satisfaction"),
    "kpi.name.handling_time": ("处理时长", "Handling time"),
    "kpi.name.overdue_backlog": ("逾期积压", "Overdue backlog"),
    "kpi.name.extensions": ("延期", "Extensions"),
    "kpi.name.escalations": ("升级", "Escalations"),
    # training
    "training.title": ("培训", "Training"),
    "training.intro": ("培训模式使用独立的培训数据库：场景库按各机构制度编写，练习操作不会影响任何真实案件。",
                       "Training uses a separate database: scenarios written from the institutions' rules; practice "
                       "never touches a real case."),
    "training.enter": ("进入培训模式", "Start training mode"),
    "training.exit": ("退出培训模式", "Leave training mode"),
    "training.banner": ("培训模式：所有操作只影响培训数据。",
                        "Training mode: everything you do touches training data only."),
    "training.reset": ("重置培训库（清除全部练习，恢复场景库）", "Reset the training database (drops all practice)"),
    "training.reset_done": ("培训库已重置，{count} 个场景已恢复。",
                            "Training database reset: {count} scenarios restored."),
    "training.library": ("场景库与讲解", "Scenario library"),
    "training.practice": ("我的练习", "My practice"),
    "training.scenario": ("场景", "Scenario"),
    "training.step": ("步骤（共 {count} 步）", "Step (of {count})"),
    "training.rules": ("适用的规则", "Rules that applied"),
    "training.next": ("下一步应当", "What to do next"),
    "training.closed": ("案件已结束。", "The case is closed."),
    "training.practise_this": ("用这个场景练习", "Practise on this scenario"),
    "training.started": ("已为您创建练习案件 {case_no}，可在下方打开并办理。",
                         "Practice case {case_no} created for you: open it below."),
    "training.no_practice": ("还没有练习案件：在场景库中选择一个场景开始练习。",
                             "No practice case yet: start one from the library."),
    "training.judge_case": ("练习案件", "Practice case"),
    "training.judge_action": ("我打算执行的操作", "The action I intend to take"),
    # print
    "print.title": ("客户投诉处理单", "Complaint handling form"),
    "print.download": ("下载可打印的处理单（HTML）", "Download the printable form (HTML)"),
    # admin
    "admin.title": ("系统管理", "Administration"),
    "admin.users": ("用户", "Users"),
    "admin.departments": ("部门", "Departments"),
    "admin.pack": ("政策包参数", "Policy pack values"),
    "admin.calendar": ("工作日历", "Working calendar"),
    "admin.username": ("用户名", "Username"),
    "admin.display_name": ("姓名", "Name"),
    "admin.password": ("初始密码", "Initial password"),
    "admin.new_password": ("新密码", "New password"),
    "admin.roles": ("角色", "Roles"),
    "admin.department": ("部门", "Department"),
    "admin.active": ("启用", "Active"),
    "admin.locked": ("锁定至", "Locked until"),
    "admin.create_user": ("新建用户", "Create user"),
    "admin.edit_user": ("修改用户", "Edit user"),
    "admin.pick_user": ("选择用户", "Choose a user"),
    "admin.update_user": ("保存修改", "Save changes"),
    "admin.reset_password": ("重置密码", "Reset password"),
    "admin.unlock": ("解锁", "Unlock"),
    "admin.code": ("代码", "Code"),
    "admin.name": ("名称", "Name"),
    "admin.save_department": ("保存部门", "Save department"),
    "admin.pack_path": ("参数", "Value"),
    "admin.pack_value": ("新值", "New value"),
    "admin.pack_hint": ("期限写法：“24 hours”“3 working_days”“15 calendar_days”“same_day_cutoff 15:30”；"
                        "金额为元；上报角色用英文代码，逗号分隔。",
                        "Periods: '24 hours', '3 working_days', '15 calendar_days', 'same_day_cutoff 15:30'; "
                        "amounts in CNY; escalation roles as codes, comma-separated."),
    "admin.set_value": ("保存参数", "Save value"),
    "admin.day": ("日期", "Day"),
    "admin.day_type": ("类型", "Type"),
    "admin.day_name": ("节日名称", "Holiday name"),
    "admin.set_day": ("保存日期", "Save day"),
    "admin.days_changed": ("已保存；{count} 件在办案件的期限已重新计算。", "Saved; {count} open cases' deadlines "
                           "were recomputed."),
    "admin.year": ("年份", "Year"),
    "admin.import": ("导入", "Import"),
    "import.template": ("下载导入模板", "Download the import template"),
    "import.file": ("上传 Excel 或 CSV 文件", "Upload an Excel or CSV file"),
    "import.run": ("校验并导入", "Validate and import"),
    "import.failed": ("发现 {count} 处错误，未导入任何案件：", "{count} problems found; nothing was imported:"),
    "import.done": ("已导入 {count} 件案件，期限已按规则计算。", "Imported {count} cases with their deadlines."),
    "import.row": ("行", "Row"),
    "import.column": ("列", "Column"),
    "import.problem": ("问题", "Problem"),
    "day.holiday": ("节假日", "Holiday"),
    "day.makeup_workday": ("调休工作日", "Make-up working day"),
    "day.workday": ("工作日", "Working day"),
    "day.weekend": ("周末", "Weekend"),
    "day.default": ("恢复默认（周一至周五）", "Back to default (Mon–Fri)"),
    # io workstream (issue 8 §5)
    "error.unexpected": ("系统出现意外错误，操作未完成，已记录。如需协助，请将参考编号 {ref} 告知系统管理员。",
                         "Something went wrong and the action was not completed; it has been logged. "
                         "If you need help, give your administrator the reference {ref}."),
}


def lang() -> str:
    return st.session_state.get("lang", "zh")


def t(key: str, **values: Any) -> str:
    zh, en = LABELS[key]
    text = zh if lang() == "zh" else en
    return text.format(**values) if values else text


def code(policy: Policy, kind: str, value: str) -> str:
    """A pack code (category, department, grade, milestone…) in the current language."""
    return policy.label(kind, value, lang())


def joined(items: Any) -> str:
    """A list in running text: 甲、乙 in Chinese, "a, b" in English."""
    return ("、" if lang() == "zh" else ", ").join(str(i) for i in items)


def pair(label: str, value: Any) -> str:
    """**label**：value with the punctuation of the current language; the value shown as typed (issue 8 §5)."""
    return f"**{label}**{'：' if lang() == 'zh' else ': '}{literal(value)}"


def role_names(roles: Any) -> str:
    return joined(t(f"role.{r}") for r in sorted(roles))


def error(exc: DomainError) -> None:
    """Show a domain error in the clerk's language; it may quote what the user typed (issue 8 §5)."""
    st.error(literal(exc.message(lang())))


def language_switch() -> None:
    choice = st.sidebar.segmented_control(t("lang.switch"), list(LANGS), format_func=LANGS.get,
                                          default=lang(), key="lang_choice")
    if choice and choice != lang():
        st.session_state["lang"] = choice
        st.rerun()
