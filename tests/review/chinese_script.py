"""Characters that only Traditional Chinese writes: every character of the repository's former
Traditional text whose Simplified form differs (OpenCC t2s), so a Simplified page contains none.

Shared by the review, simulator and ingest tests."""
from __future__ import annotations

TRADITIONAL_ONLY = frozenset(
    "佈佔偉傑備價內凱別則剛創劃劉務勢匯區吳呂員問啟單嘗嚴國圍園圖報場壞嬰孫學實寧寫寶對導帥師張強後從恆悅態應戶擇據攝數時暫書"
    "會東條楊業構樂標橋機檔檢權決沒準滬潔澤濟濤無營狀現瑤異疊發監盧確碼種稱穎節範築篩簽紀紅級組結絡統維網緊線編練績織繡羅聯職"
    "臉與興艷華萬葉蓋蔣蕭藝蘇蘭處號術衝補裝製複見規覽計訓記設許註評試該認誤課調請論謝證譚護讀豎豐負責貼賀資賈賢質趙趨躍車軍軒"
    "較輝辦週進運過遞遠選鄒鄧鄭鉗銑銷鋼錄錢錦錯鍾鐘長開間閔閻關陳陸險雲電靜韋韓頁領頭題額類顧風飛飾養馬馮駁駕駛驗髮鳳鵬麗麵黃"
    "點齡龍龔")


def traditional_in(text: str) -> str:
    """The Traditional-only characters of ``text``, in order of appearance, each once."""
    return "".join(dict.fromkeys(ch for ch in text if ch in TRADITIONAL_ONLY))
