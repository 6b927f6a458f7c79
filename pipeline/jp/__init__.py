"""Japanese knowledge any stage may use: 和暦 (wareki), postal code ↔ address (address),
katakana rules (kana), 個人番号 check digits (mynumber), dashes, full-width digits and edit
distance (text). Imports only pipeline.result; nothing here knows about templates or stages."""
