import ForgeKit
import ForgeWire
import Foundation

/// Server-rendered HTML: every value goes through `escape`, so text such as
/// `<script>` or `' OR 1=1 --` shows as typed and never runs.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// The other language, on the page being shown (`?lang=` is remembered in a cookie).
    static var languageSwitch: String {
        TextLanguage.current == .en
            ? "<a class=\"lang\" id=\"lang\" href=\"?lang=zh\" hreflang=\"zh-CN\" lang=\"zh-CN\">中文</a>"
            : "<a class=\"lang\" id=\"lang\" href=\"?lang=en\" hreflang=\"en\" lang=\"en\">English</a>"
    }

    static func page(title: String, user: String?, body: String) -> String {
        """
        <!doctype html>
        <html lang="\(TextLanguage.current.tag)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title)) · Forge</title>
        <style>
        :root { --ink: #1d2330; --muted: #667085; --line: #e4e7ec; --accent: #1f5eff; --ok: #12805c; --warn: #b54708; --bad: #b42318; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.55 system-ui, -apple-system, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: var(--ink); background: #f7f8fa; }
        header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); }
        header a.brand { font-weight: 700; color: var(--ink); text-decoration: none; }
        header a.lang { margin-left: auto; white-space: nowrap; } header form { margin-left: .6rem; } header button { white-space: nowrap; } header .muted { white-space: nowrap; }
        main { max-width: 1100px; margin: 0 auto; padding: 1rem 1.2rem 3rem; }
        a { color: var(--accent); }
        h1 { font-size: 1.4rem; margin: .6rem 0 1rem; }
        table { width: 100%; border-collapse: collapse; background: #fff; }
        th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
        section.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; }
        section.card h2 { font-size: 1.05rem; margin: 0 0 .5rem; display: flex; justify-content: space-between; }
        .status { white-space: nowrap; align-self: start; font-size: .78rem; padding: .1rem .5rem; border-radius: 999px; border: 1px solid currentColor; }
        .status.ok { color: var(--ok); } .status.unavailable { color: var(--muted); } .status.timed_out { color: var(--warn); } .status.forbidden { color: var(--bad); }
        .sla.at-risk, .sla.missed { color: var(--warn); } .sla.breached { color: var(--bad); font-weight: 600; } .sla.met, .sla.on-track { color: var(--ok); } .sla.paused { color: var(--muted); }
        dl { display: grid; grid-template-columns: 8em 1fr; margin: 0; gap: .2rem .6rem; } dt { color: var(--muted); }
        .muted { color: var(--muted); } .error { color: var(--bad); }
        .warning { color: var(--warn); font-weight: 600; }
        .tier { font-size: .85rem; padding: .1rem .6rem; border-radius: 999px; color: #fff; background: #98a2b3; white-space: nowrap; }
        .tier.bronze { background: #a05a2c; } .tier.silver { background: #7b8794; } .tier.gold { background: #b7791f; } .tier.none { background: #d0d5dd; color: #344054; }
        tr.criterion.unmet td.value { color: var(--bad); }
        form.stack { display: grid; gap: .6rem; max-width: 420px; }
        input, select, button, textarea { font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px; }
        form.stack label { display: grid; gap: .2rem; } form.stack label.check { display: flex; gap: .4rem; align-items: center; }
        button { background: var(--accent); color: #fff; border: 0; cursor: pointer; }
        ul.timeline { list-style: none; padding: 0; margin: 0; } ul.timeline li { padding: .4rem 0; border-bottom: 1px dashed var(--line); }
        ul.tree, ul.tree ul { list-style: none; padding-left: 1rem; margin: 0; }
        .board { display: grid; grid-template-columns: repeat(6, minmax(150px, 1fr)); gap: .6rem; overflow-x: auto; }
        .board.one-stage { grid-template-columns: 1fr; }
        .board.one-stage .deals { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: .5rem; }
        .column { background: #eef1f6; border-radius: 8px; padding: .5rem; min-height: 8rem; }
        .column h2 { font-size: .95rem; margin: .2rem 0 .5rem; }
        .deal { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; margin-bottom: .5rem; font-size: .9rem; }
        .deal form, td form { display: inline; }
        .deal button, td button { padding: .2rem .5rem; font-size: .8rem; margin: .2rem .2rem 0 0; }
        .overdue { color: var(--bad); font-weight: 600; }
        .ageing .bar { display: grid; grid-template-columns: 9em 1fr 10em; gap: .6rem; align-items: center; margin: .3rem 0; }
        .ageing .fill { display: block; height: .9rem; background: var(--accent); border-radius: 3px; min-width: 2px; }
        .ageing .bar[data-bucket="d31-60"] .fill, .ageing .bar[data-bucket="d61-90"] .fill { background: var(--warn); }
        .ageing .bar[data-bucket="d90+"] .fill { background: var(--bad); }
        .filters a.current { font-weight: 700; }
        @media print { header, form, button, .no-print { display: none !important; } body { background: #fff; } main { max-width: none; } }
        </style>
        </head>
        <body>
        <header><a class="brand" href="/accounts">Forge</a><nav><a href="/accounts">\(L("客户", "Accounts"))</a> · <a href="/leads">\(L("线索与任务", "Leads and tasks"))</a> · <a href="/pipeline">\(L("商机看板", "Pipeline"))</a> · <a href="/orders">\(L("订单", "Orders"))</a> · <a href="/receivables">\(L("应收", "Receivables"))</a> · <a href="/tickets">\(L("服务工单", "Tickets"))</a> · <a href="/work-orders">\(L("派工单", "Work orders"))</a> · <a href="/nps">NPS</a> · <a href="/follow-ups">\(L("跟进", "Follow-ups"))</a> · <a href="/ideas">\(L("创意", "Ideas"))</a> · <a href="/loyalty">\(L("会员", "Partners"))</a> · <a href="/analytics">\(L("分析", "Analytics"))</a></nav>\(languageSwitch)\(user.map { "<span class=\"muted\">\(escape($0))</span><form method=\"post\" action=\"/logout\"><button>\(L("退出", "Sign out"))</button></form>" } ?? "")</header>
        <main>
        \(body)
        </main>
        </body>
        </html>
        """
    }
}
