"""UI text: the app shell, the home page, sign-in and roles, the audit log. key: (English, Simplified Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
    "app.title": ("AI Business Studio", "AI 商业工作室"),
    "app.language": ("Language", "语言"),
    "app.model_status": ("Model", "模型"),
    "app.adapter_none": ("no fine-tune", "未加载微调"),
    "app.tagline": (
        "Your company's own language model, at work: chat, support, content and costs.",
        "让公司自己的语言模型投入工作：对话、客服、内容与成本。",
    ),
    "nav.chat": ("Chat", "对话"),
    "nav.home": ("Home", "首页"),
    "home.chat": (
        "Ask questions, draft replies and think things through with the company's model. "
        "Pick a persona, stop or regenerate answers, and come back to saved conversations.",
        "与公司自己的模型对话：提问、起草回复、梳理思路。可选择角色，随时停止或重新生成回答，"
        "对话会自动保存，方便以后继续。",
    ),
    "home.open_chat": ("Open the chat", "开始对话"),
    "home.model": ("The model", "模型"),
    "home.model_name": ("Model", "模型"),
    "home.adapter": ("Fine-tune (LoRA)", "微调（LoRA）"),
    "home.device": ("Runs on", "运行设备"),
    "home.dtype": ("Precision", "精度"),
    "home.private": (
        "Everything runs on this machine: questions, answers and documents never leave it.",
        "一切都在本机运行：问题、回答和文档都不会离开这台机器。",
    ),
    "nav.support": ("Customer service", "客户服务"),
    "nav.kb": ("Knowledge base", "知识库"),
    "home.support": (
        "Answers customers from your FAQ and documents, cites its sources, and hands over to a "
        "person when it does not know.",
        "根据公司的 FAQ 和文档回答客户，注明出处；不知道时转交人工。",
    ),
    "home.open_support": ("Open customer service", "打开客户服务"),
    "home.kb": (
        "Upload FAQ tables and documents, test retrieval, see unanswered questions and tickets.",
        "上传 FAQ 表格和文档，测试检索效果，查看未解答问题和工单。",
    ),
    "home.open_kb": ("Open the knowledge base", "打开知识库"),
    "nav.writer": ("Content writer", "内容写作"),
    "home.writer": (
        "Product copy, emails, social posts, ads, articles, press releases and review replies, "
        "in your brand voice and true to your facts.",
        "产品文案、邮件、社交媒体帖子、广告、文章、新闻稿和评论回复，符合品牌调性，忠于事实。",
    ),
    "home.open_writer": ("Open the writer", "开始写作"),
    "nav.signin": ("Staff sign-in", "员工登录"),
    "nav.admin": ("Admin", "管理"),
    "admin.title": ("Admin", "管理"),
    "admin.tab_users": ("Users", "用户"),
    "admin.users_caption": (
        "Staff accounts: admins open every page, staff the chat, writer, customer service and calculator. "
        "The first account must be an admin; adding it turns sign-in on (APP_AUTH=auto).",
        "员工账号：管理员可以打开所有页面，员工可以使用对话、写作、客户服务和计算器。第一个账号必须是管理员；"
        "添加后即开启登录（APP_AUTH=auto）。",
    ),
    "admin.no_users": (
        "No accounts yet: the app is open without sign-in. Add an admin to turn sign-in on.",
        "还没有账号：目前无需登录即可使用。添加一个管理员即可开启登录。",
    ),
    "admin.role": ("Role", "角色"),
    "admin.state": ("State", "状态"),
    "admin.active": ("active", "启用"),
    "admin.disabled": ("disabled", "已停用"),
    "admin.since": ("Since", "创建时间"),
    "admin.add_title": ("Add an account", "添加账号"),
    "admin.add": ("Add", "添加"),
    "admin.added": ("Added {name}. Give them their password in person.", "已添加 {name}。请当面告知其密码。"),
    "admin.password_again": ("Password again", "再次输入密码"),
    "admin.passwords_differ": ("The two passwords differ.", "两次输入的密码不一致。"),
    "admin.change_title": ("Change an account", "修改账号"),
    "admin.pick": ("Account", "账号"),
    "admin.make": ("Make {role}", "设为{role}"),
    "admin.disable": ("Disable", "停用"),
    "admin.enable": ("Enable", "启用"),
    "admin.remove_sure": ("Yes, remove {name}", "确认删除 {name}"),
    "admin.remove": ("Remove", "删除"),
    "admin.removed": ("Removed {name}", "已删除 {name}"),
    "admin.changed": ("Changed {name}", "已修改 {name}"),
    "admin.new_password": ("New password", "新密码"),
    "admin.set_password": ("Set the password", "设置密码"),
    "admin.password_changed": (
        "Password changed for {name}; their open sessions end.",
        "已修改 {name} 的密码；其已登录的会话将结束。",
    ),
    "admin.yourself": (
        "This is your own account: a change to it can end your session.",
        "这是您自己的账号：修改后您的会话可能会结束。",
    ),
    "auth.title": ("Sign in", "登录"),
    "auth.username": ("User name", "用户名"),
    "auth.password": ("Password", "密码"),
    "auth.submit": ("Sign in", "登录"),
    "auth.failed": ("Wrong user name or password.", "用户名或密码错误。"),
    "auth.locked": (
        "Too many failed attempts. Try again in {seconds} seconds.",
        "失败次数过多，请在 {seconds} 秒后重试。",
    ),
    "auth.ended": ("Your session has ended. Please sign in again.", "您的会话已结束，请重新登录。"),
    "auth.no_users": (
        "There are no accounts yet. Create the first admin in a terminal on this machine:",
        "还没有任何账户。请在本机终端中创建第一个管理员：",
    ),
    "auth.off_note": (
        "Sign-in is off: anyone who can open this app can use every page. To turn it on, "
        "add an admin on the Admin page, or in a terminal:",
        "登录未启用：任何能打开本应用的人都可以使用所有页面。如需启用，请在“管理”页面添加管理员，或在终端中创建：",
    ),
    "auth.disabled_note": ("Sign-in is switched off (APP_AUTH=off).", "登录已关闭（APP_AUTH=off）。"),
    "auth.signed_in_as": ("Signed in as {name} · {role}", "当前用户：{name} · {role}"),
    "auth.role_admin": ("admin", "管理员"),
    "auth.role_staff": ("staff", "员工"),
    "auth.sign_out": ("Sign out", "退出登录"),
    "auth.refused": (
        "Your account does not have access to this page. Ask an admin if you need it.",
        "您的账户无权访问此页面。如有需要，请联系管理员。",
    ),
    "auth.sign_in_first": ("Please sign in to use this page.", "请先登录再使用此页面。"),
    "auth.bad_setting": ("Sign-in is misconfigured: {error}", "登录设置有误：{error}"),
    "audit.caption": (
        "Who changed the knowledge base, the model and the user accounts (newest first).",
        "谁修改了知识库、模型和用户账户（最新的在前）。",
    ),
    "audit.none": ("No admin actions recorded yet.", "还没有管理操作记录。"),
    "audit.when": ("When", "时间"),
    "audit.who": ("Who", "操作人"),
    "audit.action": ("Action", "操作"),
    "audit.target": ("What", "对象"),
    "audit.detail": ("Details", "详情"),
}
