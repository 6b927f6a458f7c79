"""legacy-sim: a small old-style back-office web application standing in for a vendor system that
shinsei's RPA target keys records into. Its own process, port and SQLite file; no shinsei imports.

Pages are served as Shift_JIS HTML, like the systems it imitates: a login, a session that times out,
a two-step entry screen (申込者 → 申込内容) with a confirmation page, validation errors in
Japanese, a 受付番号 on success, a search screen (by 受付番号 or 外部参照番号) and a detail screen.
Like many real ones it does not refuse a second submission of the same application: the sender
must search before sending again. Start it with `python -m legacy_sim --port 8800 --db sim.sqlite3`.
"""
