from core.support.citations import attach_citations

SOURCES = [
    "Q: Where do you ship from?\nA: Orders to the EU are sent from Rotterdam (Netherlands).",
    "Standard delivery within the EU costs €4.95 and is free on orders of €49 or more.",
]


def test_each_sentence_gets_the_source_it_came_from():
    answer = "Orders to the EU are sent from Rotterdam. Delivery costs €4.95 in the EU, free from €49!"
    assert attach_citations(answer, SOURCES, "en") == (
        "Orders to the EU are sent from Rotterdam [1]. Delivery costs €4.95 in the EU, free from €49 [2]!"
    )


def test_unsupported_sentences_and_short_ones_stay_unmarked_and_layout_is_kept():
    answer = "Thanks!\n- Orders to the EU are sent from Rotterdam\n- We also sell teaware made of glass."
    assert attach_citations(answer, SOURCES, "en") == (
        "Thanks!\n- Orders to the EU are sent from Rotterdam [1]\n- We also sell teaware made of glass."
    )


def test_answers_that_cite_already_are_left_alone():
    assert attach_citations("Free from €49 [1].", SOURCES, "en") == "Free from €49 [1]."
    assert attach_citations("No sources here.", [], "en") == "No sources here."


def test_chinese_traditional_answer_against_simplified_sources():
    sources = ["欧盟订单从鹿特丹发货，美洲暂不配送。", "欧盟标准配送费为 4.95 欧元，满 49 欧元包邮。"]
    assert attach_citations("歐盟訂單從鹿特丹發貨。標準配送費為 4.95 歐元。", sources, "zh") == (
        "歐盟訂單從鹿特丹發貨[1]。標準配送費為 4.95 歐元[2]。"
    )
