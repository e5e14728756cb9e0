#!/usr/bin/env python3
"""Generate the bundled demo sample ``data/demo/feedback.jsonl``.

The sample is synthetic: every message is assembled from the hand-written
clause templates below (Simplified Chinese, Taiwan and Hong Kong usage,
English, and mixed Chinese-English), so nothing is copied from any dataset.
It is used by ``tongdian demo``.

    python3 scripts/make_demo_sample.py

Standard library only, fixed seed: running it twice produces byte-identical
output. It writes ``data/demo/feedback.jsonl`` (2,376 valid envelopes plus
24 deliberately invalid lines) and ``data/demo/README.md`` (which lists the
invalid lines), then prints a summary.

Clause markers used in the banks: a leading ``!`` means the clause names its
own object (food, clothes, a feature ...) so no "bought the {p}" prefix is put in
front of it; a leading ``@`` marks a clause about a physical store (also
self-contained), used only in store-context messages; a leading ``~`` marks a
negation construction ("一点也不好用", "一点都不卡") for the generator's bookkeeping. Slots: {p} product, {d} days,
{m} minutes, {c} courier, {city} city.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import pathlib
import random
import sys

SEED = 20261114
N_VALID = 2376
N_INVALID = 24
N_LINES = N_VALID + N_INVALID

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "data" / "demo"
OUT_FILE = OUT_DIR / "feedback.jsonl"
README_FILE = OUT_DIR / "README.md"

CST = dt.timezone(dt.timedelta(hours=8))
WINDOW_START = dt.datetime(2026, 11, 1, 0, 0, 0, tzinfo=CST)
WINDOW_END = dt.datetime(2026, 11, 14, 23, 59, 59, tzinfo=CST)
APP_52_RELEASE = dt.datetime(2026, 11, 12, 21, 0, 0, tzinfo=CST)

# cn = Simplified Chinese (mainland), tw = Traditional Chinese (Taiwan usage),
# hk = Traditional Chinese (Hong Kong, Cantonese), en = English,
# mix = mixed Chinese-English code-switching.
LANGS = ["cn", "tw", "hk", "en", "mix"]
LANG_HINT = {"cn": "zh-CN", "tw": "zh-TW", "hk": "zh-HK", "en": "en", "mix": "zh-CN"}

THEME_IDS = [
    "advertising", "product_info", "website_app", "customer_service",
    "staff_attitude", "staff_competence", "checkout_payment", "pricing",
    "delivery", "packaging", "product_quality", "usability",
    "after_sales_repair", "returns_refunds", "membership",
    "privacy_security", "store_environment",
]

# ---------------------------------------------------------------------------
# Slot fillers
# ---------------------------------------------------------------------------

# Same index = same product in every language.
PRODUCTS = {
    "cn": ["耳机", "扫地机器人", "空气炸锅", "电水壶", "吹风机", "充电宝", "加湿器",
           "显示器", "行李箱", "台灯", "路由器", "电动牙刷", "咖啡机", "投影仪",
           "蓝牙音箱", "榨汁机", "电动剃须刀", "机械键盘", "智能手表", "电饭煲"],
    "tw": ["耳機", "掃地機器人", "氣炸鍋", "快煮壺", "吹風機", "行動電源", "加濕器",
           "螢幕", "行李箱", "檯燈", "路由器", "電動牙刷", "咖啡機", "投影機",
           "藍牙喇叭", "果汁機", "電動刮鬍刀", "機械鍵盤", "智慧手錶", "電子鍋"],
    "hk": ["耳機", "掃地機械人", "氣炸鍋", "電熱水煲", "風筒", "尿袋", "加濕機",
           "顯示器", "喼", "枱燈", "路由器", "電動牙刷", "咖啡機", "投影機",
           "藍牙喇叭", "攪拌機", "電鬚刨", "機械鍵盤", "智能手錶", "電飯煲"],
    "en": ["earbuds", "robot vacuum", "air fryer", "kettle", "hair dryer",
           "power bank", "humidifier", "monitor", "suitcase", "desk lamp",
           "router", "electric toothbrush", "coffee machine", "projector",
           "bluetooth speaker", "blender", "electric shaver", "mechanical keyboard",
           "smartwatch", "rice cooker"],
}
PRODUCTS["mix"] = PRODUCTS["cn"]

COURIERS = {
    "cn": ["顺丰", "京东快递", "中通", "圆通", "韵达", "申通", "极兔", "邮政"],
    "tw": ["黑貓", "新竹物流", "郵局", "宅配"],
    "hk": ["順豐", "速遞", "中通", "郵政"],
    "en": ["SF Express", "the courier", "Cainiao", "JD Logistics"],
}
COURIERS["mix"] = COURIERS["cn"]

CITIES = {
    "cn": ["上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安",
           "重庆", "苏州", "天津", "长沙", "郑州", "青岛", "厦门", "合肥", "沈阳"],
    "tw": ["台北", "新北", "台中", "高雄", "桃園", "台南", "新竹"],
    "hk": ["旺角", "銅鑼灣", "沙田", "觀塘", "荃灣", "將軍澳", "元朗"],
}
CITIES["en"] = ["上海", "北京", "深圳", "广州", "杭州", "苏州"]
CITIES["mix"] = CITIES["cn"]

# ---------------------------------------------------------------------------
# Theme clause banks: THEMES[theme][polarity][lang] -> list of clauses
# ---------------------------------------------------------------------------

THEMES = {
    "advertising": {
        "neg": {
            "cn": ["天天收到你们的营销短信，退订了还在发", "广告吹得天花乱坠，实际也就那样",
                   "一天接到三个推销电话，烦死了", "APP开屏广告关都关不掉",
                   "直播间说买一送一，下单才知道送的是小样", "~宣传的效果一点也没有",
                   "满屏弹窗广告，点哪都跳转", "所谓的限时秒杀天天都有，套路太深"],
            "tw": ["每天收到你們的行銷簡訊，取消訂閱了還一直傳", "廣告講得天花亂墜，實際上很普通",
                   "一直打電話來推銷，很煩", "開APP就跳廣告，關都關不掉"],
            "hk": ["日日都收到推銷短訊，取消咗都仲send", "廣告講到好勁，其實都係咁上下",
                   "成日打嚟推銷，煩到爆"],
            "en": ["I keep getting promo texts even after unsubscribing",
                   "the ads massively oversell it",
                   "three marketing calls a day is basically harassment",
                   "the full-screen ads in the app can't even be closed"],
            "mix": ["营销短信天天发, unsubscribe了都没用", "广告弹窗太多了, so annoying"],
        },
        "pos": {
            "cn": ["直播间的优惠是真的，没有套路", "活动规则写得清清楚楚，没有文字游戏",
                   "推送不多，刚好能看到需要的优惠", "广告里说的功能都有，没夸大",
                   "这次的满减活动很实在"],
            "tw": ["活動規則寫得很清楚，沒有文字遊戲", "廣告說的功能都有，沒有誇大",
                   "這次的折扣很實在"],
            "hk": ["啲優惠係真㗎，冇呃人", "條款寫得好清楚，冇玩嘢", "推廣唔會太多，幾好"],
            "en": ["the promotion was exactly as advertised, no tricks",
                   "the promo terms were clear and honest",
                   "the ad didn't exaggerate, it really does what it says"],
            "mix": ["这次的promotion很实在, no hidden tricks"],
        },
    },
    "product_info": {
        "neg": {
            "cn": ["详情页的尺寸标错了，买回来根本放不下", "页面上没写清楚规格，问了才知道不带充电器",
                   "商品图片修得太过了，实物颜色差很多", "参数写得含糊不清，看半天也不知道适不适配",
                   "~描述里一点也没提到是翻新机", "!详情页写的是纯棉，到手是化纤",
                   "!尺码表完全不准，按表买大了两个码"],
            "tw": ["商品頁的尺寸標錯了，買回來根本放不下", "圖片修太大，實品顏色差很多",
                   "規格寫得很模糊，問了才知道不附充電器"],
            "hk": ["網頁啲尺寸寫錯咗，買返嚟擺唔落", "啲相執到靚一靚，實物色差好大",
                   "規格寫得唔清唔楚"],
            "en": ["the size chart on the listing is way off",
                   "the product photos are heavily edited, the color is totally different",
                   "the specs don't mention it needs a separate adapter",
                   "the description left out that it's a refurbished unit"],
            "mix": ["颜色和图片完全不一样, total catfish", "尺码表not accurate at all"],
        },
        "pos": {
            "cn": ["详情页写得很详细，尺码表也准", "实物和图片一模一样，没有色差",
                   "参数都写得很清楚，买之前就心里有数", "描述很实在，该有的都有",
                   "和描述的一样，没有任何出入"],
            "tw": ["商品描述很詳細，尺寸表也很準", "實品跟照片一模一樣，沒有色差",
                   "規格都寫得很清楚"],
            "hk": ["實物同相一樣，冇色差", "描述好詳細，尺碼表好準"],
            "en": ["the listing is accurate and the size chart is spot on",
                   "it looks exactly like the photos",
                   "the specs were clear so I knew exactly what I was getting"],
            "mix": ["实物和图片一样, no filter needed"],
        },
    },
    "website_app": {
        "neg": {
            "cn": ["APP老是卡顿，点一下要等半天", "小程序登录不上，一直提示网络异常",
                   "页面经常加载不出来", "找个订单入口翻了半天", "验证码一直收不到，没法登录",
                   "APP时不时就闪退", "~搜索功能一点也不好用，搜什么都不准",
                   "改个收货地址要点五六层菜单", "网页版购物车老是自己清空"],
            "tw": ["APP一直當掉，點一下要等很久", "網站一直登入不了，顯示網路錯誤",
                   "介面很難用，找訂單找半天", "APP常常閃退"],
            "hk": ["個app成日hang機，撳極都冇反應", "個網登入唔到，成日話網絡錯誤",
                   "個app閃退閃到嬲"],
            "en": ["the app freezes constantly", "I can't log in, it just says network error",
                   "the verification code never arrives", "the website keeps emptying my cart",
                   "the search function is useless"],
            "mix": ["APP老是闪退, so annoying", "登录页面一直loading, 什么鬼"],
        },
        "pos": {
            "cn": ["新版APP流畅多了", "小程序很好用，几步就下单了", "界面简洁，找东西很方便",
                   "APP里的物流追踪做得很清楚", "~页面加载很快，一点都不卡"],
            "tw": ["新版APP順很多", "介面很簡單，東西很好找", "~網站跑很快，完全不會卡"],
            "hk": ["新版app順咗好多", "個app好易用，幾下就落到單"],
            "en": ["the new app is much smoother", "the mini-program is super easy to use",
                   "order tracking in the app is really clear"],
            "mix": ["新版APP的UI很clean, 用起来很顺"],
        },
    },
    "customer_service": {
        "neg": {
            "cn": ["客服电话打了十几次都打不通", "在线客服排队排了{m}分钟",
                   "机器人客服答非所问，转人工转不过去", "客服一直说已反馈，然后就没下文了",
                   "转了三次人工，每次都要重新讲一遍", "留言{d}天了都没人回",
                   "400电话永远在排队"],
            "tw": ["客服電話打了十幾次都打不通", "線上客服排隊排了{m}分鐘",
                   "機器人客服一直鬼打牆，轉不到真人", "留言{d}天了都沒人回"],
            "hk": ["打客服熱線打極都打唔通", "等咗好耐都冇人覆",
                   "個機械人客服答非所問，轉唔到真人"],
            "en": ["I called support over ten times and never got through",
                   "I waited {m} minutes in the chat queue",
                   "the chatbot goes in circles and won't transfer me to a human",
                   "I got transferred three times and had to repeat everything",
                   "no reply to my ticket after {d} days"],
            "mix": ["客服一直不回, seriously?", "转人工转了三次, what a joke"],
        },
        "pos": {
            "cn": ["客服秒回，问题当场就解决了", "人工客服很快就接通了",
                   "客服回复很及时，跟进也很到位", "在线客服响应很快，不用等",
                   "客服主动打电话回访，很贴心"],
            "tw": ["客服秒回，問題馬上就解決了", "真人客服很快就接通", "客服回覆很即時"],
            "hk": ["客服好快覆，即刻幫我搞掂", "打去熱線好快有人聽"],
            "en": ["support replied within seconds and fixed it on the spot",
                   "I got a real person on the line almost immediately",
                   "the agent followed up proactively, really appreciated"],
            "mix": ["客服response超快, 很nice"],
        },
    },
    "staff_attitude": {
        "neg": {
            "cn": ["客服态度很差，说话特别冲", "快递员态度恶劣，直接把包裹扔门口",
                   "@店员爱答不理的，问三句回一句", "售后的人说话阴阳怪气",
                   "客服直接把我电话挂了", "@~店员一点礼貌都没有", "配送小哥还骂人"],
            "tw": ["客服態度好差，講話很衝", "@店員愛理不理，問三句回一句",
                   "送貨員態度超差，直接把箱子丟門口", "客服直接掛我電話"],
            "hk": ["@啲店員黑口黑面", "個客服好寸，講兩句就收線", "送貨師傅態度好差，擺低就走"],
            "en": ["the agent was rude and hung up on me",
                   "the courier just threw the parcel at my door",
                   "@the staff ignored me the whole time",
                   "the after-sales guy was condescending"],
            "mix": ["@店员态度超差, so rude", "客服直接挂我电话, unbelievable"],
        },
        "pos": {
            "cn": ["客服小姐姐态度超好，很有耐心", "快递小哥很客气，还帮忙搬上楼",
                   "@店员热情又不推销，体验很舒服", "服务态度满分",
                   "安装师傅很礼貌，走之前还把地面清理了"],
            "tw": ["客服態度超好，很有耐心", "@店員很親切，不會一直推銷", "送貨大哥很客氣"],
            "hk": ["@店員好有禮貌，好有耐性", "客服姐姐態度好好", "送貨師傅好nice，幫手搬上樓"],
            "en": ["the agent was patient and genuinely kind",
                   "the courier was super polite and carried it upstairs",
                   "@the staff were friendly without being pushy"],
            "mix": ["客服小姐姐超nice, 很有耐心"],
        },
    },
    "staff_competence": {
        "neg": {
            "cn": ["客服什么都不懂，只会复制粘贴话术", "问了三个客服，三个答案",
                   "@店员连产品参数都说不清楚", "维修师傅来了也找不到问题",
                   "客服给的方法根本没用", "~客服一点也不专业"],
            "tw": ["客服什麼都不懂，只會照稿念", "問了三個客服，三個答案", "@店員連規格都講不清楚"],
            "hk": ["個客服乜都唔識，得個講字", "@問三個職員有三個答案"],
            "en": ["the agent clearly had no idea and just pasted scripts",
                   "I asked three agents and got three different answers",
                   "the technician couldn't even find the fault",
                   "the fix they suggested didn't work at all"],
            "mix": ["客服完全不专业, copy paste的答案"],
        },
        "pos": {
            "cn": ["客服很专业，一下就找到问题所在", "@导购很懂行，推荐的型号很合适",
                   "技术支持远程指导几分钟就搞定了", "回答得很准确，不绕弯子"],
            "tw": ["客服很專業，一下就找到問題", "@店員很懂，推薦的型號很適合"],
            "hk": ["@職員好專業，一眼就睇到咩問題", "技術支援好快幫我搞掂"],
            "en": ["the agent knew the product inside out",
                   "tech support walked me through it in five minutes",
                   "I got an accurate answer straight away"],
            "mix": ["技术支持很professional, 几分钟搞定"],
        },
    },
    "checkout_payment": {
        "neg": {
            "cn": ["付款的时候一直提示支付失败", "同一笔订单被扣了两次钱", "优惠券结算的时候用不了",
                   "下单页面卡住，钱扣了订单却没生成", "微信支付成功了订单还显示待付款",
                   "结算时才发现不能开发票", "~领的券一张也用不上"],
            "tw": ["結帳時一直顯示付款失敗", "同一筆訂單被扣了兩次款", "折價券結帳時不能用",
                   "信用卡刷了但訂單沒成立"],
            "hk": ["俾錢嗰陣成日話付款失敗", "同一張單扣咗兩次錢", "啲優惠碼用唔到"],
            "en": ["payment keeps failing at checkout", "I was charged twice for the same order",
                   "the coupon won't apply at checkout",
                   "money left my account but no order was created"],
            "mix": ["付款一直failed, 钱还扣了两次"],
        },
        "pos": {
            "cn": ["下单很顺畅，支付一步到位", "优惠券自动抵扣，很方便",
                   "支持花呗分期，付款很方便", "结账流程很简单"],
            "tw": ["結帳很順，一下就付好了", "折價券自動折抵，很方便", "可以用LINE Pay，付款很方便"],
            "hk": ["落單好順，用PayMe一下就俾完", "優惠碼自動計埋，好方便"],
            "en": ["checkout was quick and painless", "the coupons applied automatically at checkout",
                   "paying with Alipay was seamless"],
            "mix": ["checkout很smooth, 一步到位"],
        },
    },
    "pricing": {
        "neg": {
            "cn": ["价格比别家贵了一百多", "刚买完就降价了，也不给保价", "运费比东西还贵",
                   "结算时多出来一笔服务费，之前根本没提", "~这个价格一点也不值",
                   "会员价比平时还贵，离谱", "大数据杀熟，老用户反而更贵"],
            "tw": ["價格比別家貴了一百多", "剛買完就降價，也不給補差價", "運費比商品還貴",
                   "結帳才跑出一筆服務費"],
            "hk": ["價錢貴過人哋成百蚊", "啱啱買完就減價，又唔補差價", "運費貴過件貨"],
            "en": ["it's way more expensive than elsewhere",
                   "the price dropped the day after I bought it and there's no price protection",
                   "shipping cost more than the item",
                   "a hidden service fee showed up at checkout"],
            "mix": ["价格太离谱了, totally not worth it"],
        },
        "pos": {
            "cn": ["性价比超高", "价格很实惠，比超市便宜", "降价后主动给保价退差价，良心",
                   "这个价钱买到这个品质，值了", "没有乱七八糟的附加费"],
            "tw": ["CP值超高", "價格很實在，比賣場便宜", "這個價錢買到這種品質，值得"],
            "hk": ["好抵，性價比好高", "價錢公道，冇隱藏收費"],
            "en": ["great value for money", "it's cheaper than the supermarket",
                   "they refunded the price difference when it went on sale"],
            "mix": ["性价比超高, worth every penny"],
        },
    },
    "delivery": {
        "neg": {
            "cn": ["等了{d}天才到货", "物流太慢了，说好的次日达呢", "快递一直显示派送中，就是不送",
                   "包裹被送到别人家了", "快递员没打电话就直接放驿站",
                   "{c}的物流信息好几天都不更新", "发货慢得离谱，下单三天才发",
                   "快递丢件了，也没人负责", "~说好的极速达，一点也不快"],
            "tw": ["等了{d}天才到貨", "物流超慢，說好的隔日到貨呢", "包裹被送到別人家",
                   "網購這麼多次第一次等這麼久", "出貨超慢，下單三天才出"],
            "hk": ["等咗好耐都未收到貨", "速遞寫咗派送中，成日都冇人嚟",
                   "送錯地址，搞咗成個禮拜", "出貨好鬼慢"],
            "en": ["it took {d} days to arrive", "next-day delivery my foot",
                   "tracking has said 'out for delivery' forever",
                   "the parcel was delivered to the wrong address",
                   "they lost my package and nobody takes responsibility"],
            "mix": ["物流太慢了, like seriously", "快递送错地址, nobody cares"],
        },
        "pos": {
            "cn": ["物流超快，第二天就到了", "{c}就是靠谱，隔天就送到", "发货很快，当天下单当天发",
                   "快递送货上门，很方便", "物流信息更新很及时"],
            "tw": ["物流超快，隔天就到", "出貨很快，當天下單當天出", "超商取貨很方便"],
            "hk": ["送貨好快，第二日就收到", "順豐好準時"],
            "en": ["it arrived the next day, super fast", "it shipped the same day",
                   "the tracking updates were accurate"],
            "mix": ["物流super fast, 第二天就到了"],
        },
    },
    "packaging": {
        "neg": {
            "cn": ["包装太简陋了，就一个塑料袋", "箱子都压扁了，里面东西也变形了",
                   "!洗发水漏了一半，整个箱子都是", "!杯子收到就碎了，泡沫都没放",
                   "外包装破破烂烂，像是被拆过", "~包装一点也不用心"],
            "tw": ["包裝太簡陋，只用一個塑膠袋", "箱子都壓扁了，裡面東西也變形",
                   "!洗髮精漏了一半", "!杯子收到就破了"],
            "hk": ["包裝求其，得個膠袋", "個盒扁晒，啲嘢都變形", "!啲洗頭水漏晒出嚟"],
            "en": ["the packaging was just a flimsy plastic bag", "the box arrived crushed",
                   "!the shampoo leaked all over the box",
                   "!the glass arrived shattered, no padding at all"],
            "mix": ["箱子都压烂了, packaging太差"],
        },
        "pos": {
            "cn": ["包装很严实，里三层外三层", "包装精美，送人很有面子",
                   "~防震做得很好，一点磕碰都没有", "包装环保，没有过度包装"],
            "tw": ["~包裝很紮實，完全沒有碰撞", "包裝很精美，很適合送禮"],
            "hk": ["~包裝好穩陣，一啲花都冇", "包裝好靚，送禮一流"],
            "en": ["very well packed, not a scratch", "beautiful gift packaging",
                   "no excessive packaging, appreciated"],
            "mix": ["包装很精致, perfect for gifting"],
        },
    },
    "product_quality": {
        "neg": {
            "cn": ["{p}用了不到一周就坏了", "{p}做工粗糙，线头到处都是", "收到的{p}有明显划痕",
                   "{p}质量太差了，完全不耐用", "!外卖送到都凉了，菜也不新鲜", "!水果一半是烂的",
                   "!衣服洗一次就掉色缩水", "~{p}质量一点都不行", "!充一次电续航一天都撑不住",
                   "!牛排有股怪味，肯定不新鲜"],
            "tw": ["{p}用不到一週就壞了", "{p}做工很粗糙", "收到的{p}有明顯刮痕",
                   "!水果一半是爛的", "!衣服洗一次就褪色"],
            "hk": ["{p}用咗唔夠一個禮拜就壞咗", "{p}做工好求其", "!啲生果爛咗一半", "!外賣送到凍晒"],
            "en": ["the {p} broke within a week", "the {p} feels cheap and poorly made",
                   "my {p} arrived with scratches all over", "!half the fruit was rotten",
                   "!the shirt shrank after one wash"],
            "mix": ["{p}用了三天就坏了, total garbage"],
        },
        "pos": {
            "cn": ["{p}质量很好，做工扎实", "{p}用了半年还跟新的一样", "!东西很新鲜，味道很好",
                   "{p}做工精细，超出预期", "!面料舒服，洗了也不变形", "!耳机音质很好，降噪效果不错"],
            "tw": ["{p}品質很好，做工很紮實", "{p}用半年還跟新的一樣", "!東西很新鮮，很好吃"],
            "hk": ["{p}質素好好，做工好紮實", "!啲嘢好新鮮，好好食"],
            "en": ["the {p} is really well built", "six months in and the {p} still works like new",
                   "!everything was fresh and tasted great"],
            "mix": ["{p}质量很solid, 超出预期"],
        },
    },
    "usability": {
        "neg": {
            "cn": ["说明书看不懂，全是机翻", "设置步骤太复杂，折腾了一晚上", "{p}的按键设计反人类",
                   "!连WiFi连了半天都连不上", "~操作一点也不直观", "!配套APP绑定设备总失败"],
            "tw": ["說明書看不懂，根本是機翻", "設定步驟超複雜，弄了一整晚", "!連WiFi一直連不上"],
            "hk": ["說明書睇極都唔明", "設定好複雜，搞咗成晚"],
            "en": ["the manual is an unreadable machine translation",
                   "setup took me an entire evening", "!it refuses to connect to WiFi",
                   "the buttons are completely counterintuitive"],
            "mix": ["setup太复杂了, 折腾了一晚上"],
        },
        "pos": {
            "cn": ["开箱即用，很简单", "说明书写得很清楚，老人也会用", "操作很直观，一看就会",
                   "!配网一次就成功了"],
            "tw": ["開箱就能用，很簡單", "操作很直覺，一看就會"],
            "hk": ["一開箱就用得，好簡單", "好易用，屋企老人家都識"],
            "en": ["it works straight out of the box",
                   "the instructions are clear enough for my parents",
                   "!pairing took literally one try"],
            "mix": ["plug and play, 很简单"],
        },
    },
    "after_sales_repair": {
        "neg": {
            "cn": ["报修{d}天了师傅还没上门", "保修期内还要收维修费", "寄修一个月了还没修好",
                   "修完没两天又坏了", "约好上门时间，师傅放鸽子", "售后推来推去，谁也不管"],
            "tw": ["報修{d}天了師傅還沒來", "保固內還要收維修費", "送修一個月還沒修好"],
            "hk": ["報咗維修{d}日都未有師傅上門", "保養期內都要收錢", "送去維修成個月都未搞掂"],
            "en": ["it's been {d} days since I requested a repair and no technician yet",
                   "they're charging for a repair that's under warranty",
                   "it's been at the repair center for a month",
                   "the technician didn't show up for the appointment"],
            "mix": ["保修期内还要收钱, are you kidding me"],
        },
        "pos": {
            "cn": ["报修当天师傅就上门了", "保修期内免费换了新的", "售后维修很快，三天就寄回来了",
                   "维修师傅很专业，顺便帮忙做了保养"],
            "tw": ["報修當天師傅就來了", "保固內直接換新，很讚"],
            "hk": ["報維修即日就有師傅上門", "保養期內直接換新，好好"],
            "en": ["the technician came the same day", "they replaced it under warranty, no questions asked",
                   "the repair was done in three days"],
            "mix": ["售后维修super efficient, 三天就修好"],
        },
    },
    "returns_refunds": {
        "neg": {
            "cn": ["申请退货{d}天了还没人处理", "退款一直显示处理中", "七天无理由退货也不给退",
                   "退货运费要我自己出", "说好的退款到现在都没到账", "换货换回来的还是坏的",
                   "商家拒绝退款，理由是影响二次销售"],
            "tw": ["申請退貨{d}天了還沒人處理", "退款一直顯示處理中", "七天鑑賞期也不給退",
                   "退款到現在都還沒入帳"],
            "hk": ["申請退貨{d}日都冇人理", "退款等咗好耐都未收到", "話唔俾退貨"],
            "en": ["my return request has been ignored for {d} days",
                   "the refund has been 'processing' forever",
                   "they refused the return even within the 7-day window",
                   "I have to pay return shipping for their mistake"],
            "mix": ["refund到现在都没到账, 无语"],
        },
        "pos": {
            "cn": ["退款秒到账", "退货很方便，快递上门取件", "换货很快，没有任何刁难",
                   "七天无理由退货很爽快"],
            "tw": ["退款很快就入帳了", "退貨很方便，有人到府收件"],
            "hk": ["退款好快就收到", "退貨好方便，有人上門收件"],
            "en": ["the refund landed instantly", "the return pickup was arranged for the next day",
                   "the exchange was quick and hassle-free"],
            "mix": ["退款秒到账, amazing"],
        },
    },
    "membership": {
        "neg": {
            "cn": ["会员积分莫名其妙清零了", "开了会员也没什么特权", "会员自动续费都不提醒",
                   "~PLUS会员一点用都没有", "积分兑换的东西永远没货", "会员日的优惠比平时还少"],
            "tw": ["會員點數莫名其妙歸零", "付費會員也沒什麼優惠", "會員自動續約都不通知"],
            "hk": ["啲積分無啦啦清咗零", "做咗會員都冇咩著數"],
            "en": ["my loyalty points vanished", "the paid membership gives basically nothing",
                   "the membership auto-renewed without any reminder"],
            "mix": ["会员auto-renew了都不通知"],
        },
        "pos": {
            "cn": ["会员权益很实在，每月都有券", "积分可以抵现，很划算", "会员生日礼很贴心",
                   "88VIP的折扣真香"],
            "tw": ["會員福利很實在，每個月都有折價券", "點數可以折抵，很划算"],
            "hk": ["會員著數多，每個月都有優惠", "積分可以當錢用，好抵"],
            "en": ["the member perks are genuinely useful", "points can be redeemed as cash, nice",
                   "loved the birthday gift for members"],
            "mix": ["会员福利很nice, 每个月都有coupon"],
        },
    },
    "privacy_security": {
        "neg": {
            "cn": ["刚下单就接到骚扰电话，信息肯定被泄露了", "账号被盗刷了，客服也不管",
                   "快递单上的手机号也不打码", "APP要的权限太多了，连通讯录都要",
                   "注销账号的入口藏得很深", "密码都没改，账号在异地登录了"],
            "tw": ["剛下單就接到詐騙電話，個資一定外洩了", "帳號被盜用，客服也不管", "APP要的權限太多"],
            "hk": ["啱啱落完單就收到騙案電話，資料一定洩漏咗", "個account俾人盜用，客服都唔理"],
            "en": ["I started getting scam calls right after ordering, my data was leaked",
                   "my account was hacked and support doesn't care",
                   "the app demands access to my contacts for no reason",
                   "deleting my account is deliberately hidden"],
            "mix": ["个人信息被leak了, 天天接到诈骗电话"],
        },
        "pos": {
            "cn": ["快递单是隐私面单，挺放心", "异地登录马上就有提醒，安全感满满",
                   "注销账号很方便，说删就删"],
            "tw": ["有隱私面單，很放心", "異地登入馬上通知，很安心"],
            "hk": ["有私隱保護，好放心", "異地登入即刻有通知"],
            "en": ["the shipping label hides my phone number, appreciated",
                   "I got an instant alert on an unusual login"],
            "mix": ["privacy做得很好, 面单都打码"],
        },
    },
    "store_environment": {
        "neg": {
            "cn": ["@门店排队排了一个小时", "@店里又脏又乱，桌子上都是油", "@店里太吵了，根本没法聊天",
                   "@试衣间只有两个，排长队", "@门店连个坐的地方都没有", "@空调坏了，店里闷得要死",
                   "@洗手间很脏"],
            "tw": ["@門市排隊排了一個小時", "@店裡又髒又亂", "@店裡超吵，根本沒辦法聊天"],
            "hk": ["@間舖排隊排咗成個鐘", "@間舖又污糟又逼", "@間舖嘈到死"],
            "en": ["@I waited an hour in line at the store", "@the store was filthy",
                   "@the place is so noisy you can't talk", "@only two fitting rooms for the whole store"],
            "mix": ["@门店排队排了一个小时, ridiculous"],
        },
        "pos": {
            "cn": ["@门店环境很干净，装修也好看", "@店里很安静，适合办公", "@座位很宽敞，还有儿童区",
                   "@门店停车很方便"],
            "tw": ["@店裡環境很乾淨，裝潢也很美", "@座位很寬敞，很舒服"],
            "hk": ["@間舖好乾淨，裝修好靚", "@環境好舒服，坐得好闊落"],
            "en": ["@the store is spotless and nicely designed",
                   "@quiet, comfortable seating, a great place to work"],
            "mix": ["@店里环境很chill, 很适合work"],
        },
    },
}

# ---------------------------------------------------------------------------
# Risk flag banks
# ---------------------------------------------------------------------------

CHURN = {
    "cn": ["再也不买了", "已经卸载了", "准备销户了", "以后不会再来了", "会员不续了",
           "拉黑这家店了", "果断换别家", "这是最后一次在你们家买"],
    "tw": ["以後不會再買了", "已經刪除APP了", "準備退會員", "再也不會光顧"],
    "hk": ["以後唔會再幫襯", "已經刪咗個app", "會取消會籍", "冇下次"],
    "en": ["never buying from you again", "uninstalled", "I'm cancelling my membership",
           "switching to a competitor", "I'm closing my account"],
}
CHURN["mix"] = ["再也不买了, bye", "已经uninstall了", "准备销户, done with this"]

ESCALATION = {
    "cn": ["再不处理我就打12315了", "已经向消协投诉了", "准备发微博曝光", "我会找律师",
           "已经在黑猫投诉上投诉了", "不行就去市场监管局举报"],
    "tw": ["再不處理我就去消基會申訴", "已經打1950消費者專線了", "會PO上爆料公社", "準備找律師"],
    "hk": ["再唔處理我就去消委會投訴", "會放上網曝光", "已經搵咗律師"],
    "en": ["I've filed a complaint with the consumer association",
           "I'll take this to 12315 if it's not fixed",
           "I'm posting this everywhere until someone responds",
           "my lawyer will be in touch"],
}
ESCALATION["mix"] = ["再不处理就打12315, seriously", "准备找lawyer了"]

# (theme, clause) -- the theme the hazard is about, always negative.
SAFETY = {
    "cn": [("product_quality", "!吃完一家人上吐下泻，怀疑食物中毒"),
           ("product_quality", "!外卖里吃出一根钢丝，差点划伤嘴"),
           ("product_quality", "!电水壶底座漏电，手被电了一下"),
           ("product_quality", "!孩子用了面霜脸上过敏起红疹"),
           ("product_quality", "!蛋糕里有异物，像是塑料片"),
           ("product_quality", "!充电宝充着充着鼓包了，太危险了"),
           ("product_quality", "!吹风机插上电就冒火花"),
           ("store_environment", "@店里地板很滑，我妈差点摔倒"),
           ("packaging", "!箱子里全是碎玻璃，拆的时候手被划破了")],
    "tw": [("product_quality", "!吃完整個晚上上吐下瀉，懷疑食物中毒"),
           ("product_quality", "!便當裡吃到一根鐵絲，差點割到嘴"),
           ("product_quality", "!行動電源充電時膨脹，超危險"),
           ("store_environment", "@店裡地板超滑，我媽差點跌倒"),
           ("product_quality", "!乳液擦完臉過敏起紅疹"),
           ("packaging", "!箱子裡都是碎玻璃，拆的時候割到手")],
    "hk": [("product_quality", "!食完成晚肚痾，懷疑食物中毒"),
           ("product_quality", "!個飯盒入面有異物，好核突"),
           ("product_quality", "!個電熱水煲漏電，差啲電親"),
           ("product_quality", "!個尿袋叉叉下電脹咗，好危險"),
           ("store_environment", "@間舖地下好滑，我阿媽差啲跣親")],
    "en": [("product_quality", "!my kid got a rash after using the face cream"),
           ("product_quality", "!I found a piece of plastic in the cake"),
           ("product_quality", "!the power bank swelled up while charging, that's a fire hazard"),
           ("product_quality", "!the whole family got food poisoning after the delivery order"),
           ("product_quality", "!the kettle base leaks electricity, I got a shock"),
           ("store_environment", "@the store floor was soaking wet and my mom nearly fell")],
    "mix": [("product_quality", "!充电宝鼓包了, this is a fire hazard"),
            ("product_quality", "!外卖吃出异物, disgusting")],
}

# (theme, clause) -- explicit gap between promise/description and reality.
EXPECTATION_GAP = {
    "cn": [("product_info", "!收到的东西与描述不符"), ("product_info", "!图片仅供参考？实物完全两样"),
           ("advertising", "!说好的全网最低价，结果比别家还贵"),
           ("advertising", "!宣传说续航30小时，实际不到8小时"),
           ("product_info", "!买家秀和卖家秀差距也太大了"),
           ("product_info", "!页面写的是正品，收到的明显是仿的")],
    "tw": [("product_info", "!收到的東西跟描述完全不一樣"), ("product_info", "!圖片僅供參考是在哈囉？"),
           ("advertising", "!廣告說續航30小時，實際不到8小時"),
           ("product_info", "!實品跟網頁照片差太多"), ("product_info", "!說是正品，收到明顯是仿的")],
    "hk": [("product_info", "!收到嘅嘢同描述完全唔同"), ("advertising", "!廣告講到好勁，用落完全兩回事"),
           ("product_info", "!實物同網上啲相差天共地")],
    "en": [("product_info", "!not as described at all"),
           ("product_info", "!the photos are 'for reference only', apparently, the real thing looks nothing like them"),
           ("advertising", "!the ads promised 30-hour battery life, I get 8"),
           ("product_info", "!it's nothing like the listing")],
    "mix": [("product_info", "!与描述不符, total scam"), ("product_info", "!图片仅供参考? are you serious")],
}

# ---------------------------------------------------------------------------
# Openers, closers, connectors, interjections, emoji
# ---------------------------------------------------------------------------

OPENERS = {
    "neg": {
        "cn": ["差评！", "无语了，", "真的服了，", "踩雷了，", "避雷！", "说实话，", "第一次写差评，",
               "气死我了😡", "真的会谢，", "离谱，", "吐槽一下，"],
        "tw": ["傻眼，", "真的很扯，", "踩雷了，", "第一次給負評，", "氣死，", "很瞎，"],
        "hk": ["激嬲，", "真係離晒譜，", "頂唔順，", "講真，"],
        "en": ["Ugh. ", "Honestly, ", "Seriously, ", "Not happy. ", "First time leaving a bad review. ",
               "Wow. "],
        "mix": ["无语, ", "OMG，", "Honestly，", "真的speechless，"],
    },
    "pos": {
        "cn": ["好评！", "五星好评，", "第二次回购了，", "惊喜！", "真香，", "宝藏店铺，", "必须夸一下，"],
        "tw": ["大推！", "超讚，", "第二次回購了，", "必須推一下，"],
        "hk": ["好正！", "一百分，", "推介！", "第二次幫襯，"],
        "en": ["Love it! ", "Five stars. ", "Pleasantly surprised. ", "Second time ordering. ",
               "Have to say, "],
        "mix": ["Love it！", "真的nice，", "Highly recommend！"],
    },
}

CLOSERS = {
    "neg": {
        "cn": ["垃圾。", "无语。", "太失望了。", "差评！", "真的会谢。", "心累。", "大家避雷。",
               "一星都不想给。", "血亏。", "交智商税了。", "坑。"],
        "tw": ["很失望。", "爛透了。", "大家別買。", "雷。", "超傻眼。"],
        "hk": ["好失望。", "垃圾。", "冇下次。", "嬲死。"],
        "en": ["Terrible.", "Very disappointed.", "Avoid.", "0/10.", "smh.", "What a mess."],
        "mix": ["so disappointed。", "差评, avoid.", "真的无语, smh"],
    },
    "pos": {
        "cn": ["给力！", "yyds！", "绝绝子👍", "必须好评。", "会回购的。", "推荐！", "爱了爱了❤️",
               "点赞。", "满分。", "无限回购。", "冲！"],
        "tw": ["大推！", "讚！", "會再回購。", "推推。", "必買！"],
        "hk": ["正！", "抵讚！", "一定會再幫襯。", "推介！"],
        "en": ["10/10.", "Highly recommend.", "Will buy again.", "Chef's kiss.", "Thanks!"],
        "mix": ["yyds, highly recommend!", "会回购, 10/10", "给力, thanks!"],
    },
}

# Ticket follow-up requests / questions attached to complaints.
FOLLOWUPS = {
    "cn": ["麻烦尽快处理。", "请尽快给我答复。", "请问什么时候能处理？", "能给个准话吗？",
           "希望今天能解决。", "请给个说法。"],
    "tw": ["麻煩盡快處理。", "請盡快回覆。", "請問什麼時候可以處理？"],
    "hk": ["唔該盡快處理。", "幾時先搞得掂？", "請盡快覆我。"],
    "en": ["Please sort this out ASAP.", "When will this be fixed?", "Can someone please respond?",
           "Please advise."],
    "mix": ["麻烦尽快处理, thanks.", "什么时候能fix？"],
}

TICKET_OPENERS = {
    "cn": ["你好，", "您好，", "客服你好，", "在吗？", ""],
    "tw": ["你好，", "您好，", ""],
    "hk": ["你好，", "唔該，", ""],
    "en": ["Hi, ", "Hello, ", ""],
    "mix": ["Hi，", "你好，", ""],
}

SOCIAL_TAGS = {
    "neg": {
        "cn": ["#避雷# ", "#吐槽# ", "@官方客服 ", "姐妹们避雷！", "#消费维权# "],
        "tw": ["[抱怨] ", "#雷 ", "[問題] "],
        "hk": ["#伏 ", "#勁嬲 "],
        "en": ["@support ", "#fail ", "#customerservice "],
        "mix": ["#避雷# ", "@support "],
    },
    "pos": {
        "cn": ["#好物分享# ", "#宝藏好物# ", "#真香# "],
        "tw": ["[心得] ", "#推 "],
        "hk": ["#推介 ", "#好物 "],
        "en": ["#recommended ", "#happycustomer "],
        "mix": ["#好物分享# ", "#recommended "],
    },
}

SURVEY_OPENERS = {
    "cn": ["建议：", "希望改进：", "", "", "总体来说，"],
    "tw": ["建議：", "", ""],
    "hk": ["建議：", "", ""],
    "en": ["Feedback: ", "", ""],
    "mix": ["", "建议："],
}

MIX_TAILS = {
    "neg": ["so annoying", "seriously?", "what a joke", "unbelievable", "total waste of money",
            "not happy at all", "come on", "like why"],
    "pos": ["love it", "totally worth it", "highly recommend", "amazing", "nice job",
            "good job guys"],
}

NEG_CONN = {
    "cn": ["，而且", "，还有", "。另外，", "，", "；"],
    "tw": ["，而且", "，還有", "。另外，", "，"],
    "hk": ["，仲有", "，而且", "，", "。另外"],
    "en": [", and ", ". Also, ", "; ", ". On top of that, "],
    "mix": ["，而且", ", and ", "，"],
}

CONTRAST = {  # pos <conn> neg
    "cn": ["，但是", "，不过", "，可是", "，就是", "。但"],
    "tw": ["，但是", "，不過", "，可是", "，只是"],
    "hk": ["，但係", "，不過", "，可惜"],
    "en": [", but ", ". However, ", ", though "],
    "mix": [", but ", "，但是"],
}
CONCESSIVE = {  # although <neg>, <pos>
    "cn": ("虽然", "，但是"), "tw": ("雖然", "，但是"), "hk": ("雖然", "，不過"),
    "en": ("Although ", ", "), "mix": ("虽然", ", but "),
}

EMOJI = {
    "neg": ["😡", "😤", "🙄", "💢", "😭", "🤬", "👎", "😡😡", "🤡"],
    "pos": ["👍", "❤️", "🥰", "😊", "🎉", "✨", "💯", "👍👍"],
    "neutral": ["🤔", "🙏", "😅"],
}

PRODUCT_PREFIX = {
    "cn": ["买的{p}，", "上周买的{p}，", "给爸妈买的{p}，", "双十一前囤的{p}，", "第二次买{p}了，",
           "这个{p}，", "入手{p}一个月，"],
    "tw": ["買的{p}，", "上週買的{p}，", "幫爸媽買的{p}，"],
    "hk": ["買咗個{p}，", "上個禮拜買嘅{p}，"],
    "en": ["Bought the {p}. ", "Got this {p} last week. ", "Ordered the {p} for my parents. "],
    "mix": ["买的{p}，", "这个{p}，"],
}
PRODUCT_THEMES = {"product_quality", "usability", "packaging", "delivery", "returns_refunds",
                  "after_sales_repair", "pricing", "product_info"}

# ---------------------------------------------------------------------------
# Neutral questions (theme mention with neutral polarity, or no theme)
# ---------------------------------------------------------------------------

QUESTIONS = {
    "cn": [("product_info", "请问这个有现货吗？"), ("product_info", "请问这款有没有大一号的？"),
           ("product_info", "这个{p}支持110V吗？"), ("product_info", "请问保质期到什么时候？"),
           ("delivery", "请问什么时候发货？"), ("delivery", "能发顺丰吗？"),
           ("delivery", "请问可以指定送货时间吗？"), ("delivery", "请问寄到新疆要几天？"),
           ("returns_refunds", "请问退货地址是哪里？"), ("returns_refunds", "退款一般几天到账？"),
           ("checkout_payment", "请问可以开专票吗？"), ("checkout_payment", "可以用花呗分期吗？"),
           ("membership", "会员积分怎么兑换？"), ("membership", "请问会员有效期多久？"),
           ("after_sales_repair", "请问是全国联保吗？"), ("store_environment", "请问门店几点关门？"),
           ("store_environment", "店里有停车位吗？"), ("pricing", "双十一之后还会降价吗？"),
           ("pricing", "请问有保价吗？"), ("usability", "请问这个怎么连接手机？"),
           ("privacy_security", "请问怎么注销账号？"), ("website_app", "APP里在哪里修改收货地址？"),
           ("customer_service", "人工客服几点上班？"), (None, "在吗？想咨询一下。"),
           (None, "请问可以帮我查一下订单吗？"), ("product_info", "这个颜色和图片一样吗？")],
    "tw": [("product_info", "請問這個還有現貨嗎？"), ("delivery", "請問什麼時候出貨？"),
           ("delivery", "可以超商取貨嗎？"), ("returns_refunds", "請問退貨要怎麼申請？"),
           ("after_sales_repair", "請問有保固嗎？"), ("store_environment", "請問門市幾點關？"),
           ("membership", "會員點數怎麼用？"), ("checkout_payment", "請問可以分期嗎？"),
           ("product_info", "這個{p}有附變壓器嗎？"), (None, "想請問一下訂單狀況。")],
    "hk": [("product_info", "唔該，呢個仲有冇貨？"), ("delivery", "幾時可以送到？"),
           ("delivery", "可唔可以送上門？"), ("returns_refunds", "點樣申請退貨？"),
           ("after_sales_repair", "請問有冇保養？"), ("store_environment", "間舖幾點收？"),
           ("membership", "積分點用？"), ("checkout_payment", "可唔可以用PayMe俾錢？"),
           (None, "想問下張單去到邊。")],
    "en": [("product_info", "Is this in stock?"), ("delivery", "When will my order ship?"),
           ("delivery", "Do you deliver to Hangzhou?"), ("returns_refunds", "How long do refunds usually take?"),
           ("after_sales_repair", "Does this come with a warranty?"),
           ("store_environment", "What time does the store close?"),
           ("membership", "How do I redeem my points?"),
           ("checkout_payment", "Can I pay with a foreign credit card?"),
           ("privacy_security", "How do I delete my account?"),
           ("product_info", "Does the {p} work with 220V?"), ("usability", "Is there an English manual?"),
           ("website_app", "Can I change my delivery address in the app?"),
           (None, "Could you check the status of my order?")],
    "mix": [("product_info", "请问这个有stock吗？"), ("delivery", "什么时候ship？"),
            ("returns_refunds", "refund一般几天到账？"), ("after_sales_repair", "这个{p}有warranty吗？"),
            ("checkout_payment", "能用Apple Pay吗？")],
}

# Messages that mention no theme at all.
NO_THEME = {
    "neutral": {
        "cn": ["收到了。", "还没用，用几天再来追评。", "一般般吧。", "东西收到了，还行。",
               "帮朋友买的，不清楚效果。", "还可以。", "中规中矩。", "。。。", "就那样吧",
               "先收藏了", "已收货。"],
        "tw": ["收到了。", "還沒用，用了再來評。", "普普通通。", "還可以啦。"],
        "hk": ["收到。", "麻麻地。", "都OK嘅。", "未用住，用完再講。"],
        "en": ["Received.", "Haven't tried it yet.", "It's okay.", "Average.", "Meh."],
        "mix": ["还OK吧", "just so-so, 一般般"],
    },
    "pos": {
        "cn": ["很满意！", "好评！", "非常好，下次还来。", "不错不错👍", "满分！", "太喜欢了❤️",
               "yyds！", "绝绝子！", "给力！"],
        "tw": ["很滿意！", "大推！", "超讚👍"],
        "hk": ["好正！", "一百分👍", "抵讚！"],
        "en": ["Love it!", "10/10 would buy again.", "Perfect 👍", "Very happy."],
        "mix": ["love it！好评", "perfect, 满分"],
    },
    "neg": {
        "cn": ["差评。", "无语。", "太失望了。", "垃圾。", "踩雷了。", "什么都不想说了。",
               "😡😡😡", "真的会谢。"],
        "tw": ["傻眼。", "很失望。", "爛透了。", "雷。"],
        "hk": ["激嬲。", "垃圾。", "好失望。"],
        "en": ["Terrible.", "Very disappointed.", "Waste of money.", "Ugh. 👎"],
        "mix": ["disappointed, 差评", "无语, what a joke"],
    },
}

# ---------------------------------------------------------------------------
# Story banks: the two incidents the demo should surface
# ---------------------------------------------------------------------------

STORY_DELIVERY = {
    "cn": ["双十一买的东西到现在还没到，快递三天没更新了", "物流信息卡在{city}转运中心三天了，双十一爆仓也不能这样吧",
           "11号下的单，到今天还显示已揽件", "快递三天没更新，客服只会说双十一件多请耐心等待",
           "双十一的单子一直不发货，问就是仓库爆仓", "显示派送中两天了，人影都没看到",
           "物流停在{c}网点不动了，是不是丢件了", "双十一囤的货一件都没到，说好的48小时发货呢",
           "同一天买的三个包裹，一个都没动", "物流轨迹停在11号，已经三天了",
           "双十一的快递太慢了，等到花儿都谢了", "催了三次物流还是没有任何更新"],
    "tw": ["雙11買的東西到現在還沒到，物流三天沒更新", "物流超慢，雙11訂的現在還卡在轉運中心",
           "說好的隔日到貨，已經等了五天", "雙11的訂單一直沒出貨，客服只說量太大"],
    "hk": ["雙十一買嘅嘢等咗好耐都未到，物流三日冇更新", "速遞話爆倉，等到頸都長",
           "張單卡喺轉運中心三日，冇人理"],
    "en": ["I ordered on Double 11 and tracking hasn't updated in three days",
           "my parcel has been stuck at the sorting center since the 11th",
           "Singles' Day backlog is no excuse, still no delivery after four days",
           "three separate orders from the 11th and none of them have moved"],
    "mix": ["双十一的order到现在还没到, tracking三天没update了", "快递stuck在转运中心三天, seriously?"],
}

STORY_APP = {
    "cn": ["更新到5.2之后APP一直闪退，根本打不开", "新版本5.2一直闪退，订单都看不了",
           "升级5.2后一点支付就闪退", "5.2版本太坑了，打开就白屏然后闪退",
           "昨晚更新了5.2，现在一直转圈然后闪退，登录不上", "安卓更新5.2以后一直崩溃，能不能先回滚",
           "5.2新版本一进购物车就闪退", "更新了新版5.2，一打开就闪退，重装也没用"],
    "tw": ["更新5.2版之後APP一直閃退，完全打不開", "新版5.2一開就閃退，是在搞什麼",
           "5.2更新後付款頁面直接閃退"],
    "hk": ["更新咗5.2之後個app成日閃退，開都開唔到", "新版5.2一撳付款就crash"],
    "en": ["since updating to 5.2 the app crashes on launch",
           "version 5.2 keeps crashing whenever I open my orders",
           "the 5.2 update broke everything, instant crash after the splash screen",
           "app 5.2 crashes every time I try to pay"],
    "mix": ["APP更新5.2之后一直闪退, so annoying", "5.2版本一打开就crash, 能不能fix一下"],
}

STORY_PREFIX_DELIVERY = {
    "cn": ["", "", "急！", "这次真的被坑惨了，", "订单号发过了，"],
    "tw": ["", "", "急！"], "hk": ["", ""], "en": ["", ""], "mix": ["", ""],
}

# ---------------------------------------------------------------------------
# Envelope metadata: sources, channels, weights
# ---------------------------------------------------------------------------

SOURCES = {
    "review": {
        "cn": [("tmall", 5), ("jd", 5), ("taobao", 3), ("pinduoduo", 2), ("douyin_shop", 2),
               ("meituan", 2), ("dianping", 1), ("app_store", 1), ("huawei_appgallery", 1)],
        "tw": [("shopee_tw", 4), ("momo", 3), ("pchome", 2), ("google_maps", 1), ("app_store", 1),
               ("google_play", 1)],
        "hk": [("hktvmall", 4), ("openrice", 2), ("google_maps", 1), ("app_store", 1), ("google_play", 1)],
        "en": [("tmall_global", 3), ("jd", 2), ("app_store", 2), ("google_play", 2), ("trustpilot", 1),
               ("google_maps", 1)],
    },
    "ticket": {
        "cn": [("zendesk", 3), ("udesk", 3), ("qiyu", 3), ("hotline_400", 2), ("wechat_kf", 2)],
        "tw": [("zendesk", 3), ("line_oa", 2), ("hotline", 1)],
        "hk": [("zendesk", 3), ("whatsapp", 2), ("hotline", 1)],
        "en": [("zendesk", 4), ("email", 2)],
    },
    "survey": {
        "cn": [("wechat_survey", 5), ("wjx", 2), ("app_survey", 2), ("sms_survey", 1)],
        "tw": [("line_survey", 2), ("email_survey", 1), ("app_survey", 1)],
        "hk": [("whatsapp_survey", 2), ("email_survey", 1), ("app_survey", 1)],
        "en": [("qualtrics", 3), ("email_survey", 1), ("app_survey", 1)],
    },
    "social": {
        "cn": [("weibo", 4), ("xiaohongshu", 4), ("douyin", 2), ("heimao", 1), ("zhihu", 1), ("bilibili", 1)],
        "tw": [("dcard", 3), ("ptt", 2), ("facebook", 2), ("threads", 1)],
        "hk": [("lihkg", 3), ("facebook", 2), ("instagram", 1), ("threads", 1)],
        "en": [("x", 3), ("reddit", 2), ("instagram", 1)],
    },
}
for _k in SOURCES:
    SOURCES[_k]["mix"] = SOURCES[_k]["cn"]

STORE_SOURCES = {"cn": [("dianping", 3), ("meituan", 2)], "tw": [("google_maps", 1)],
                 "hk": [("openrice", 2), ("google_maps", 1)], "en": [("google_maps", 1)]}
STORE_SOURCES["mix"] = STORE_SOURCES["cn"]
APP_SOURCES = {"cn": [("app_store", 3), ("huawei_appgallery", 2), ("xiaomi_appstore", 1)],
               "tw": [("app_store", 1), ("google_play", 1)], "hk": [("app_store", 1), ("google_play", 1)],
               "en": [("app_store", 1), ("google_play", 1)]}
APP_SOURCES["mix"] = APP_SOURCES["cn"]

MARKETPLACES = {"tmall", "jd", "taobao", "pinduoduo", "douyin_shop", "shopee_tw", "momo", "pchome",
                "hktvmall", "tmall_global"}
APPS = {"app_store", "google_play", "huawei_appgallery", "xiaomi_appstore", "meituan", "dianping",
        "openrice", "app_survey"}
# Producers that stamp times in UTC ("Z"); everyone else sends +08:00.
UTC_SOURCES = {"zendesk", "qualtrics", "trustpilot", "google_play", "x", "reddit", "google_maps"}


def channel_for(rng, kind, source, themes):
    if "store_environment" in themes and kind in ("survey", "ticket"):
        return "store"
    if source in MARKETPLACES:
        return "marketplace"
    if source in APPS:
        return "app"
    table = {
        "zendesk": ["web", "app", "email", "call_center", "wechat"],
        "udesk": ["app", "web", "wechat"], "qiyu": ["app", "web", "wechat"],
        "hotline_400": ["call_center"], "hotline": ["call_center"], "wechat_kf": ["wechat"],
        "line_oa": ["line"], "whatsapp": ["whatsapp"], "email": ["email"],
        "wechat_survey": ["wechat"], "wjx": ["web", "wechat"], "sms_survey": ["sms"],
        "email_survey": ["email"], "qualtrics": ["email", "web"], "line_survey": ["line"],
        "whatsapp_survey": ["whatsapp"], "weibo": ["weibo"], "google_maps": ["web"],
        "trustpilot": ["web"],
    }
    if source in table:
        return rng.choice(table[source])
    return "social"


KIND_COUNTS = {"review": 950, "ticket": 594, "survey": 475, "social": 357}  # 40/25/20/15 %
TEXTLESS_SURVEYS = 158                                                     # about a third of surveys
N_STORY_DELIVERY = 110
N_STORY_APP = 70

# Scenario mix per kind: negative, positive, contrast (mixed), neutral question, no theme.
SCENARIOS = {
    "review": [("neg", 40), ("pos", 38), ("contrast", 14), ("question", 2), ("notheme", 5)],
    "ticket": [("neg", 62), ("pos", 6), ("contrast", 6), ("question", 22), ("notheme", 4)],
    "survey": [("neg", 40), ("pos", 35), ("contrast", 15), ("question", 2), ("notheme", 8)],
    "social": [("neg", 55), ("pos", 25), ("contrast", 10), ("question", 5), ("notheme", 5)],
}

THEME_WEIGHTS = {
    "neg": {"advertising": 4, "product_info": 5, "website_app": 6, "customer_service": 9,
            "staff_attitude": 7, "staff_competence": 5, "checkout_payment": 5, "pricing": 6,
            "delivery": 8, "packaging": 5, "product_quality": 10, "usability": 4,
            "after_sales_repair": 6, "returns_refunds": 8, "membership": 4, "privacy_security": 3,
            "store_environment": 4},
    "pos": {"advertising": 2, "product_info": 3, "website_app": 4, "customer_service": 7,
            "staff_attitude": 8, "staff_competence": 4, "checkout_payment": 3, "pricing": 6,
            "delivery": 10, "packaging": 6, "product_quality": 10, "usability": 5,
            "after_sales_repair": 4, "returns_refunds": 4, "membership": 4, "privacy_security": 2,
            "store_environment": 5},
}

DAY_WEIGHTS = [1.0, 0.95, 0.9, 0.9, 0.92, 0.95, 1.0, 1.0, 1.02, 1.1, 1.35, 1.25, 1.05, 1.05]
HOUR_WEIGHTS = [3, 2, 1, 0.6, 0.5, 0.6, 1, 2, 3.5, 4.5, 5, 5, 5.5, 5, 4.5, 4.5, 4.5, 5, 5.5, 6.5,
                8, 9, 8, 5.5]

SEGMENTS = [("new", 25), ("returning", 45), ("high_value", 15), ("at_risk", 15)]


def wchoice(rng, pairs):
    items = [p[0] for p in pairs]
    weights = [p[1] for p in pairs]
    return rng.choices(items, weights=weights, k=1)[0]


def fmt_time(t: dt.datetime, utc: bool) -> str:
    if utc:
        return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return t.astimezone(CST).strftime("%Y-%m-%dT%H:%M:%S+08:00")


def sample_time(rng, day=None, not_before=None):
    if day is None:
        day = rng.choices(range(1, 15), weights=DAY_WEIGHTS, k=1)[0]
    while True:
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS, k=1)[0]
        t = dt.datetime(2026, 11, day, hour, rng.randrange(60), rng.randrange(60), tzinfo=CST)
        if not_before is None or t >= not_before:
            return t


# ---------------------------------------------------------------------------
# Text assembly
# ---------------------------------------------------------------------------

def parse_clause(raw):
    """Strip the leading markers; return (text, self_contained, negation)."""
    self_contained = negation = False
    while raw and raw[0] in "!~@":
        if raw[0] in "!@":
            self_contained = True
        else:
            negation = True
        raw = raw[1:]
    return raw, self_contained, negation


def is_store_clause(raw):
    head = raw[: len(raw) - len(raw.lstrip("!~@"))]
    return "@" in head


def is_cjk(ch):
    return "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"


def cap_sentences(s):
    """Capitalise the first letter of each English sentence."""
    out = []
    cap = True
    for i, ch in enumerate(s):
        if cap and ch.isalpha():
            out.append(ch.upper())
            cap = False
            continue
        if ch.isalnum() or is_cjk(ch):
            cap = False
        out.append(ch)
        if ch in ".!?" and (i + 1 < len(s) and s[i + 1] == " "):
            cap = True
    return "".join(out)


class Msg:
    """Per-message assembly context and bookkeeping."""

    def __init__(self, rng, lang, kind):
        self.rng = rng
        self.lang = lang
        self.kind = kind
        self.product = rng.randrange(len(PRODUCTS["cn"]))
        self.product_used = False
        self.days = rng.choice([2, 3, 3, 4, 5, 5, 6, 7, 10])
        self.minutes = rng.choice([20, 30, 40, 45, 50, 60, 90])
        self.courier = rng.choice(COURIERS[lang])
        self.city = rng.choice(CITIES[lang])
        self.themes = []          # (theme, polarity) in order of mention
        self.flags = []
        self.negation = False
        self.self_contained = False
        self.sentiment = None
        self.context = "online"   # or "store": picks "@" staff clauses, avoids them otherwise

    def fill(self, s):
        if "{p}" in s:
            self.product_used = True
        return (s.replace("{p}", PRODUCTS[self.lang][self.product])
                 .replace("{d}", str(self.days))
                 .replace("{m}", str(self.minutes))
                 .replace("{c}", self.courier)
                 .replace("{city}", self.city))

    def clause(self, theme, pol, lang=None):
        lang = lang or self.lang
        opts = THEMES[theme][pol][lang]
        store = [r for r in opts if is_store_clause(r)]
        online = [r for r in opts if not is_store_clause(r)]
        if self.context == "store" and store and theme in STORE_STAFF:
            opts = store
        elif self.context == "online" and online:
            opts = online
        raw = self.rng.choice(opts)
        text, sc, neg = parse_clause(raw)
        self.self_contained |= sc or "{p}" in text
        self.negation |= neg
        self.themes.append((theme, pol))
        return self.fill(text)

    def flag(self, name, bank, lang=None):
        lang = lang or self.lang
        items = bank[lang]
        if isinstance(items[0], tuple):
            mine = {t for t, _ in self.themes}
            fitting = [it for it in items if it[0] in mine]
            if self.context != "store":
                items = [it for it in items if not is_store_clause(it[1])]
            if fitting and self.rng.random() < 0.7:
                items = fitting
        item = self.rng.choice(items)
        self.flags.append(name)
        if isinstance(item, tuple):
            theme, raw = item
            self.themes.append((theme, "neg"))
            text, sc, _ = parse_clause(raw)
            self.self_contained |= sc
            return self.fill(text)
        return self.fill(item)


def end_punct(rng, lang, final, pol=None):
    if lang == "en":
        opts = [(".", 70), ("!", 18), ("", 12 if final else 0)]
    elif lang == "mix":
        opts = [("。", 40), (".", 20), ("！", 15), ("", 25 if final else 0)]
    else:
        opts = [("。", 55), ("！", 20), ("！！", 4), ("。。。", 0 if pol == "pos" else 3), ("", 17 if final else 0)]
    return wchoice(rng, opts)


def join_units(rng, lang, units, pol=None):
    """units: sentence strings without final punctuation, or already-punctuated ones."""
    out = ""
    for i, u in enumerate(units):
        final = i == len(units) - 1
        if u and u[-1] not in "。！？!?.～~" and not (len(u) > 1 and u[-2:] in ("!!",)):
            u = u + end_punct(rng, lang, final, pol)
        if out:
            if lang == "en" or (lang == "mix" and (not is_cjk(u[0]) or not is_cjk(out[-1]))):
                if not out.endswith(" "):
                    out += " "
        out += u
    return out


# Themes that naturally come up together; the second theme of a message is
# usually one of these so that combinations stay plausible.
RELATED = {
    "advertising": ["pricing", "product_info", "privacy_security", "website_app", "membership"],
    "product_info": ["product_quality", "advertising", "returns_refunds", "customer_service", "staff_competence"],
    "website_app": ["checkout_payment", "customer_service", "privacy_security", "membership", "advertising"],
    "customer_service": ["staff_attitude", "staff_competence", "returns_refunds", "delivery", "after_sales_repair"],
    "staff_attitude": ["customer_service", "staff_competence", "delivery", "after_sales_repair", "store_environment"],
    "staff_competence": ["customer_service", "staff_attitude", "after_sales_repair", "usability", "product_info"],
    "checkout_payment": ["website_app", "pricing", "membership", "customer_service"],
    "pricing": ["product_quality", "checkout_payment", "membership", "advertising", "delivery"],
    "delivery": ["packaging", "customer_service", "staff_attitude", "product_quality", "returns_refunds"],
    "packaging": ["delivery", "product_quality", "returns_refunds"],
    "product_quality": ["returns_refunds", "after_sales_repair", "pricing", "packaging", "product_info", "usability"],
    "usability": ["product_quality", "product_info", "staff_competence", "after_sales_repair"],
    "after_sales_repair": ["staff_competence", "customer_service", "product_quality", "staff_attitude"],
    "returns_refunds": ["customer_service", "product_quality", "delivery", "staff_attitude"],
    "membership": ["pricing", "checkout_payment", "advertising", "website_app"],
    "privacy_security": ["website_app", "customer_service", "advertising"],
    "store_environment": ["staff_attitude", "staff_competence", "pricing", "membership", "checkout_payment"],
}
STORE_STAFF = {"staff_attitude", "staff_competence", "store_environment"}


def second_theme(rng, pol, first):
    if first == "store_environment" or rng.random() < 0.75:
        return rng.choice(RELATED[first])
    while True:
        t = wchoice(rng, list(THEME_WEIGHTS[pol].items()))
        if t not in (first, "store_environment"):
            return t


def pick_themes(rng, pol, n):
    first = wchoice(rng, list(THEME_WEIGHTS[pol].items()))
    return [first] if n == 1 else [first, second_theme(rng, pol, first)]


def set_context(m, themes):
    if "store_environment" in themes or (themes[0] in STORE_STAFF and m.rng.random() < 0.3):
        m.context = "store"


def body_single(m, pol, themes):
    """One or two same-polarity theme clauses joined by a connector."""
    rng, lang = m.rng, m.lang
    if lang == "mix":
        style = rng.random()
        if style < 0.45:
            c = m.clause(themes[0], pol, "mix")
        elif style < 0.8:
            c = m.clause(themes[0], pol, "cn") + rng.choice([", ", "，"]) + rng.choice(MIX_TAILS[pol])
        else:
            c = m.clause(themes[0], pol, "cn")
            if len(themes) == 1:
                themes = themes + [second_theme(rng, pol, themes[0])]
            if len(themes) > 1:
                c += ", and " + m.clause(themes[1], pol, "en")
                return c
        if len(themes) > 1:
            conn = " " if c[-1] in "?!" else rng.choice(NEG_CONN["mix"])
            c += conn + m.clause(themes[1], pol, "cn")
        return c
    c = m.clause(themes[0], pol)
    if len(themes) > 1:
        c += rng.choice(NEG_CONN[lang]) + m.clause(themes[1], pol)
    return c


def body_contrast(m, pos_theme, neg_theme):
    rng, lang = m.rng, m.lang
    if lang == "mix":
        if rng.random() < 0.5:
            return m.clause(pos_theme, "pos", "cn") + ", but " + m.clause(neg_theme, "neg", "en")
        return m.clause(pos_theme, "pos", "en") + "，但是" + m.clause(neg_theme, "neg", "cn")
    r = rng.random()
    if r < 0.2:
        a, b = CONCESSIVE[lang]
        neg = m.clause(neg_theme, "neg")
        return a + neg + b + m.clause(pos_theme, "pos")
    if r < 0.3:
        neg = m.clause(neg_theme, "neg")
        conn = {"cn": "，不过", "tw": "，不過", "hk": "，不過", "en": ", but "}[lang]
        return neg + conn + m.clause(pos_theme, "pos")
    pos = m.clause(pos_theme, "pos")
    return pos + rng.choice(CONTRAST[lang]) + m.clause(neg_theme, "neg")


def decorate(m, pol, units, allow_product_prefix=True):
    """Add openers / tags / product prefix / closers / emoji and return the text."""
    rng, lang, kind = m.rng, m.lang, m.kind
    lead = ""
    if pol in ("neg", "pos") and rng.random() < (0.22 if kind != "ticket" else 0.08):
        lead += rng.choice(OPENERS[pol][lang])
    if (allow_product_prefix and not m.self_contained and not m.product_used
            and any(t in PRODUCT_THEMES for t, _ in m.themes) and rng.random() < 0.35):
        lead += m.fill(rng.choice(PRODUCT_PREFIX[lang]))
    if kind == "ticket" and rng.random() < 0.55:
        lead = rng.choice(TICKET_OPENERS[lang]) + lead
    elif kind == "survey" and rng.random() < 0.4:
        lead = rng.choice(SURVEY_OPENERS[lang]) + lead
    units = list(units)
    units[0] = lead + units[0]
    if pol in ("neg", "pos") and rng.random() < 0.25:
        units.append(rng.choice(CLOSERS[pol][lang]))
    text = join_units(rng, lang, units, pol)
    if lang == "en":
        text = cap_sentences(text)
    if kind == "social" and pol in ("neg", "pos") and rng.random() < 0.45:
        text = rng.choice(SOCIAL_TAGS[pol][lang]) + text
    epol = pol if pol in ("neg", "pos") else "neutral"
    emoji_p = 0.2 if kind == "social" else 0.1
    if rng.random() < emoji_p:
        if pol == "mixed":
            epol = rng.choice(["neg", "pos"])
        text += rng.choice(EMOJI[epol])
    return text


SAFETY_THEMES = {"product_quality", "packaging", "store_environment"}
GAP_THEMES = {"product_info", "advertising", "product_quality", "pricing"}


def add_risk_units(m, units, churn_p=0.11, esc_p=0.06, safety_p=0.035, gap_p=0.06):
    """Risk clauses; safety and expectation gaps mostly where the themes make them plausible."""
    rng = m.rng
    themes = {t for t, _ in m.themes}
    safety_p *= 2.5 if themes & SAFETY_THEMES else 0.3
    gap_p *= 2.5 if themes & GAP_THEMES else 0.3
    if rng.random() < safety_p:
        units.insert(rng.randrange(len(units) + 1), m.flag("safety", SAFETY))
    if rng.random() < gap_p:
        units.insert(0 if rng.random() < 0.5 else len(units), m.flag("expectation_gap", EXPECTATION_GAP))
    if rng.random() < churn_p:
        units.append(m.flag("churn_risk", CHURN))
    if rng.random() < esc_p:
        units.append(m.flag("escalation", ESCALATION))


def build_text(m, scenario):
    """Compose the text for a scenario; fills m's bookkeeping."""
    rng, lang, kind = m.rng, m.lang, m.kind
    if scenario == "neg":
        m.sentiment = "negative"
        themes = pick_themes(rng, "neg", 2 if rng.random() < 0.3 else 1)
        set_context(m, themes)
        units = [body_single(m, "neg", themes)]
        add_risk_units(m, units)
        if kind == "ticket" and rng.random() < 0.4:
            units.append(rng.choice(FOLLOWUPS[lang]))
        return decorate(m, "neg", units)
    if scenario == "pos":
        m.sentiment = "positive"
        themes = pick_themes(rng, "pos", 2 if rng.random() < 0.3 else 1)
        set_context(m, themes)
        return decorate(m, "pos", [body_single(m, "pos", themes)])
    if scenario == "contrast":
        m.sentiment = "mixed"
        if rng.random() < 0.5:
            pos_t = pick_themes(rng, "pos", 1)[0]
            neg_t = second_theme(rng, "neg", pos_t)
        else:
            neg_t = pick_themes(rng, "neg", 1)[0]
            pos_t = second_theme(rng, "pos", neg_t)
        set_context(m, [pos_t, neg_t])
        units = [body_contrast(m, pos_t, neg_t)]
        add_risk_units(m, units, churn_p=0.05, esc_p=0.02, safety_p=0.01, gap_p=0.04)
        return decorate(m, "mixed", units)
    if scenario == "question":
        m.sentiment = "neutral"
        theme, q = rng.choice(QUESTIONS[lang])
        if theme:
            m.themes.append((theme, "neutral"))
        units = [m.fill(q)]
        if rng.random() < 0.15 and lang != "mix":   # two questions in one message
            theme2, q2 = rng.choice(QUESTIONS[lang])
            if q2 != q:
                if theme2:
                    m.themes.append((theme2, "neutral"))
                units.append(m.fill(q2))
        return decorate(m, "neutral", units, allow_product_prefix=False)
    if scenario == "notheme":
        pol = wchoice(rng, [("neutral", 45), ("pos", 35), ("neg", 20)])
        m.sentiment = {"neutral": "neutral", "pos": "positive", "neg": "negative"}[pol]
        text = rng.choice(NO_THEME[pol][lang])
        if pol == "neg" and rng.random() < 0.3:
            text = join_units(rng, lang, [text, m.flag("churn_risk", CHURN)])
            if lang == "en":
                text = cap_sentences(text)
        return text
    raise ValueError(scenario)


def build_story_text(m, story, t):
    rng, lang = m.rng, m.lang
    m.sentiment = "negative"
    if story == "delivery":
        m.themes.append(("delivery", "neg"))
        head = rng.choice(STORY_PREFIX_DELIVERY[lang])
        units = [head + m.fill(rng.choice(STORY_DELIVERY[lang]))]
        if rng.random() < 0.25:
            units.append(m.clause("customer_service", "neg", lang if lang != "mix" else "cn"))
    else:
        m.themes.append(("website_app", "neg"))
        opts = STORY_APP[lang]
        if t.day == APP_52_RELEASE.day:   # release evening: nobody updated "last night" yet
            opts = [o for o in opts if "昨晚" not in o]
        units = [m.fill(rng.choice(opts))]
        if rng.random() < 0.2:
            units.append(m.clause("checkout_payment", "neg", lang if lang != "mix" else "cn"))
    add_risk_units(m, units, churn_p=0.14, esc_p=0.07, safety_p=0.0, gap_p=0.0)
    if m.kind == "ticket" and rng.random() < 0.5:
        units.append(rng.choice(FOLLOWUPS[lang]))
    m.self_contained = True
    return decorate(m, "neg", units, allow_product_prefix=False)


# ---------------------------------------------------------------------------
# Scores, ticket timing, customers, attributes
# ---------------------------------------------------------------------------

def review_rating(rng, sentiment):
    if rng.random() < 0.025:   # the odd mis-click: praise with one star and vice versa
        return rng.choice([1, 5])
    table = {
        "negative": [(1, 65), (2, 30), (3, 5)],
        "mixed": [(2, 25), (3, 50), (4, 25)],
        "positive": [(5, 70), (4, 27), (3, 3)],
        "neutral": [(3, 35), (4, 35), (5, 30)],
    }
    return wchoice(rng, table[sentiment])


def survey_scores(rng, sentiment, textless_day=None):
    """Scores consistent-ish with the sentiment. CES: 1 = very hard, 7 = very easy."""
    shape = wchoice(rng, [("nps", 40), ("csat", 25), ("nps+csat", 15), ("ces", 10), ("csat+ces", 10)])
    if sentiment is None:   # textless: draw a sentiment, worse in the last two days
        if textless_day is not None and textless_day >= 13:
            sentiment = wchoice(rng, [("negative", 50), ("mixed", 25), ("positive", 25)])
        else:
            sentiment = wchoice(rng, [("negative", 30), ("mixed", 35), ("positive", 35)])
    nps = {"negative": [(0, 8), (1, 5), (2, 8), (3, 10), (4, 10), (5, 12), (6, 8)],
           "mixed": [(5, 3), (6, 6), (7, 10), (8, 8)],
           "neutral": [(6, 3), (7, 6), (8, 6), (9, 2)],
           "positive": [(9, 40), (10, 60)]}[sentiment]
    csat = {"negative": [(1, 60), (2, 40)], "mixed": [(2, 25), (3, 55), (4, 20)],
            "neutral": [(3, 50), (4, 50)], "positive": [(4, 30), (5, 70)]}[sentiment]
    ces = {"negative": [(1, 35), (2, 40), (3, 25)], "mixed": [(3, 35), (4, 40), (5, 25)],
           "neutral": [(4, 50), (5, 50)], "positive": [(6, 45), (7, 55)]}[sentiment]
    out = {}
    if "nps" in shape:
        out["nps"] = wchoice(rng, nps)
    if "csat" in shape:
        out["csat"] = wchoice(rng, csat)
    if "ces" in shape:
        out["ces"] = wchoice(rng, ces)
    return out, sentiment


def ticket_times(rng, opened, channel, themes, story, utc):
    after_sales = any(t in ("after_sales_repair", "returns_refunds") for t, _ in themes)
    r = rng.random()
    if channel in ("app", "web", "wechat", "line", "whatsapp"):
        table = [(("s", 4, 30), 50), (("s", 60, 600), 28), (("s", 600, 3600), 15), (("s", 3600, 14400), 7)]
    elif channel == "call_center":
        table = [(("s", 15, 180), 55), (("s", 180, 1200), 35), (("s", 3600, 7 * 3600), 10)]
    else:  # email, store, other
        table = [(("s", 1200, 4 * 3600), 50), (("s", 4 * 3600, 20 * 3600), 50)]
    _, lo, hi = wchoice(rng, table)
    first = lo + rng.random() * (hi - lo)
    if after_sales and rng.random() < 0.35:
        first = 2 * 3600 + rng.random() * 24 * 3600        # after-sales queues: beyond 2 h
    if story and rng.random() < 0.5:
        first *= 2.5 + rng.random() * 4                     # backlog during the incidents
    first_at = opened + dt.timedelta(seconds=int(first))
    status = wchoice(rng, [("resolved", 45), ("closed", 25), ("pending", 16), ("open", 14)])
    if story and status in ("resolved", "closed") and rng.random() < 0.5:
        status = "pending"
    out = {"opened_at": fmt_time(opened, utc)}
    if status == "open" and rng.random() < 0.6:
        first_at = None
    if first_at is not None and first_at > WINDOW_END:
        first_at = None
        status = "open"
    if first_at is not None:
        out["first_response_at"] = fmt_time(first_at, utc)
    if status in ("resolved", "closed"):
        base = first_at or opened
        secs = wchoice(rng, [((60, 1800), 35), ((1800, 6 * 3600), 30), ((6 * 3600, 72 * 3600), 35)])
        resolved = base + dt.timedelta(seconds=int(secs[0] + rng.random() * (secs[1] - secs[0])))
        if resolved > WINDOW_END:
            status = "pending"
        else:
            out["resolved_at"] = fmt_time(resolved, utc)
    out["status"] = status
    return out


class Customers:
    def __init__(self, rng):
        self.rng = rng
        self.pools = {}
        used = set()
        sizes = {"cn": 330, "tw": 70, "hk": 60, "en": 70}
        for lang, size in sizes.items():
            pool = []
            for i in range(size):
                while True:
                    cid = "cust-%07d" % rng.randrange(10 ** 6, 10 ** 7)
                    if cid not in used:
                        used.add(cid)
                        break
                frequent = i < max(6, size // 20)
                seg = (wchoice(rng, [("returning", 55), ("high_value", 35), ("at_risk", 10)])
                       if frequent else wchoice(rng, SEGMENTS))
                pool.append((cid, seg, frequent))
            self.pools[lang] = pool

    def pick(self, lang):
        pool = self.pools["cn" if lang == "mix" else lang]
        frequent = [c for c in pool if c[2]]
        if self.rng.random() < 0.3:
            c = self.rng.choice(frequent)
        else:
            c = self.rng.choice(pool)
        out = {"id": c[0]}
        if self.rng.random() < 0.96:
            out["segment"] = c[1]
        return out


def order_id(rng, source):
    if source in ("jd", "tmall_global"):
        return str(rng.randrange(10 ** 11, 10 ** 12))
    if source in ("tmall", "taobao"):
        return str(rng.randrange(10 ** 17, 10 ** 18))
    if source == "pinduoduo":
        return "261%03d-%012d" % (rng.randrange(101, 115), rng.randrange(10 ** 11, 10 ** 12))
    if source in ("shopee_tw", "momo", "pchome", "hktvmall"):
        return "%s%09d" % ("2611", rng.randrange(10 ** 8, 10 ** 9))
    return "DD%013d" % rng.randrange(10 ** 12, 10 ** 13)


def touchpoint(themes):
    first = themes[0][0] if themes else None
    return {
        "delivery": "post_delivery", "packaging": "post_delivery",
        "store_environment": "store_visit", "website_app": "app",
        "customer_service": "post_support", "staff_attitude": "post_support",
        "staff_competence": "post_support", "after_sales_repair": "post_repair",
        "returns_refunds": "post_return",
    }.get(first, "post_purchase")


def app_version(rng, t):
    if t >= APP_52_RELEASE and rng.random() < 0.75:
        return "5.2.0"
    return wchoice(rng, [("5.1.4", 60), ("5.1.3", 25), ("5.0.9", 15)])


# ---------------------------------------------------------------------------
# One envelope
# ---------------------------------------------------------------------------

def build_record(rng, customers, kind, lang, textless=False, story=None, scenario=None):
    """Return (record without id, bookkeeping). ``lang`` is None for textless surveys."""
    src_lang = lang or wchoice(rng, [("cn", 80), ("tw", 8), ("hk", 6), ("en", 6)])
    m = Msg(rng, src_lang, kind)

    # when
    if story == "delivery":
        t = sample_time(rng, day=wchoice(rng, [(13, 45), (14, 55)]))
    elif story == "app":
        day = wchoice(rng, [(12, 15), (13, 45), (14, 40)])
        t = sample_time(rng, day=day, not_before=APP_52_RELEASE if day == 12 else None)
    else:
        t = sample_time(rng)

    text = None
    if not textless:
        if story:
            text = build_story_text(m, story, t)
        else:
            scenario = scenario or wchoice(rng, SCENARIOS[kind])
            text = build_text(m, scenario)
    theme_ids = [t for t, _ in m.themes]

    # where
    if kind == "review" and (story == "app" or (theme_ids and theme_ids[0] == "website_app")):
        source = wchoice(rng, APP_SOURCES[src_lang])
    elif kind == "review" and theme_ids and theme_ids[0] == "store_environment":
        source = wchoice(rng, STORE_SOURCES[src_lang])
    else:
        source = wchoice(rng, SOURCES[kind][src_lang])
    channel = channel_for(rng, kind, source, theme_ids)
    if story == "app" and kind in ("ticket", "survey"):
        channel = rng.choice(["app", "app", "web"]) if kind == "ticket" else "app"
    if channel == "call_center":
        while not 8 <= t.hour <= 21:
            t = sample_time(rng, day=t.day)
    utc = source in UTC_SOURCES

    rec = {"id": None, "kind": kind, "created_at": fmt_time(t, utc), "source": source}
    if rng.random() < 0.9:
        rec["channel"] = channel
    if text is not None:
        if lang == "mix":
            if rng.random() < 0.6:
                rec["lang"] = "zh-CN"
        elif rng.random() < 0.88:
            rec["lang"] = LANG_HINT[lang]
        rec["text"] = text
    if rng.random() < 0.30:
        rec["customer"] = customers.pick(src_lang)
    if kind == "review" and rng.random() < 0.97:
        rec["rating"] = review_rating(rng, m.sentiment)
    if kind == "survey":
        scores, sent = survey_scores(rng, m.sentiment if text is not None else None,
                                     textless_day=t.day if textless else None)
        rec["survey"] = scores
        if textless:
            m.sentiment = sent
    if kind == "ticket":
        rec["ticket"] = ticket_times(rng, t, channel, m.themes, story is not None, utc)

    attrs = {}
    if (kind == "ticket" and rng.random() < 0.7) or (source in MARKETPLACES and rng.random() < 0.5):
        attrs["order_id"] = order_id(rng, source)
    if m.product_used and rng.random() < 0.6:
        attrs["product"] = PRODUCTS["cn"][m.product]
    if story == "app" or "website_app" in theme_ids:
        attrs["app_version"] = "5.2.0" if story == "app" else app_version(rng, t)
        attrs["platform"] = wchoice(rng, [("android", 50), ("ios", 38), ("harmonyos", 12)])
    if "store_environment" in theme_ids:
        attrs["store_id"] = "%s-%03d" % (rng.choice(["SH", "BJ", "GZ", "SZ", "HZ", "CD", "TPE", "HK"]),
                                         rng.randrange(1, 120))
    if "store_environment" in theme_ids or story == "delivery" or rng.random() < 0.2:
        if rng.random() < 0.8:
            attrs["city"] = m.city
    if story == "delivery" and rng.random() < 0.4 and src_lang in ("cn", "mix"):
        attrs["courier"] = m.courier
    if kind == "survey":
        attrs["touchpoint"] = (rng.choice(["post_purchase", "post_delivery", "post_support", "app"])
                               if textless else touchpoint(m.themes))
    if kind == "social" and rng.random() < 0.5:
        attrs["likes"] = str(int(rng.paretovariate(1.1) * 2) - 1)
    if attrs:
        rec["attributes"] = attrs

    meta = {
        "kind": kind, "lang": lang, "themes": list(m.themes), "flags": list(m.flags),
        "sentiment": m.sentiment, "negation": m.negation, "story": story, "textless": textless,
        "time": t, "customer": rec.get("customer", {}).get("id"), "segment": rec.get("customer", {}).get("segment"),
    }
    return rec, meta


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------
# The 24 invalid lines
# ---------------------------------------------------------------------------

def _set(rec, key, value, after=None):
    """Set key, keeping the envelope's key order (insert after ``after`` when new)."""
    if key in rec or after is None:
        rec[key] = value
        return rec
    out = {}
    for k, v in rec.items():
        out[k] = v
        if k == after:
            out[key] = value
    if key not in out:
        out[key] = value
    return out


def make_invalid(rng, customers, code, line_no, neighbour_time):
    """Return (raw line, description). Each line breaks exactly one rule."""
    base_kind = {"rating_7": "review", "rating_string": "review", "review_empty_text": "review",
                 "review_no_text": "review", "nps_11": "survey", "csat_0": "survey", "ces_9": "survey",
                 "opened_at_bad": "ticket", "kind_email": "ticket"}.get(code)
    kind = base_kind or rng.choice(["review", "ticket", "social", "review"])
    lang = wchoice(rng, [("cn", 60), ("tw", 15), ("en", 15), ("hk", 10)])
    rec, _ = build_record(rng, customers, kind, lang, scenario=rng.choice(["neg", "pos", "contrast"]))
    rec["id"] = "demo-%06d" % line_no
    utc = rec["created_at"].endswith("Z")
    rec["created_at"] = fmt_time(neighbour_time, utc)
    if "ticket" in rec:
        rec["ticket"] = ticket_times(rng, neighbour_time, rec.get("channel", "web"), [], False, utc)
    if kind == "survey":
        rec["survey"] = {"nps": 3, "csat": 2} if code != "ces_9" else {"ces": 2}
    if code == "truncated":
        s = dumps(rec)
        return s[: int(len(s) * 0.55)], "malformed JSON: the object is truncated mid-value (invalid_json)"
    if code == "array":
        return "[" + dumps(rec) + "]", "a JSON array, not an object (not_an_object)"
    if code == "bare_string":
        return dumps(rec.get("text") or "物流三天没更新了"), "a bare JSON string, not an object (not_an_object)"
    if code == "missing_id":
        del rec["id"]
        return dumps(rec), "missing required `id` (missing_field)"
    if code == "missing_created_at":
        del rec["created_at"]
        return dumps(rec), "missing required `created_at` (missing_field)"
    if code == "missing_kind":
        del rec["kind"]
        return dumps(rec), "missing required `kind` (missing_field)"
    if code == "kind_email":
        rec["kind"] = "email"
        return dumps(rec), "unknown `kind` value \"email\" (bad_value)"
    if code == "created_at_format":
        rec["created_at"] = neighbour_time.strftime("%Y/%m/%d %H:%M")
        return dumps(rec), "`created_at` is not RFC 3339 (\"%s\") (bad_value)" % rec["created_at"]
    if code == "rating_7":
        rec["rating"] = 7
        return dumps(_set(rec, "rating", 7, after="customer" if "customer" in rec else "text")), \
            "`rating` 7 is outside 1-5 (bad_value)"
    if code == "rating_string":
        rec = _set(rec, "rating", "five", after="customer" if "customer" in rec else "text")
        return dumps(rec), "`rating` is the string \"five\", not an integer (bad_type)"
    if code == "nps_11":
        rec["survey"] = {"nps": 11}
        return dumps(rec), "`survey.nps` 11 is outside 0-10 (bad_value)"
    if code == "csat_0":
        rec["survey"] = {"csat": 0}
        return dumps(rec), "`survey.csat` 0 is outside 1-5 (bad_value)"
    if code == "ces_9":
        rec["survey"] = {"ces": 9}
        return dumps(rec), "`survey.ces` 9 is outside 1-7 (bad_value)"
    if code == "segment_vip":
        cust = rec.get("customer") or {"id": "cust-%07d" % rng.randrange(10 ** 6, 10 ** 7)}
        cust["segment"] = "vip"
        rec = _set(rec, "customer", cust, after="text")
        return dumps(rec), "`customer.segment` \"vip\" is not one of new/returning/high_value/at_risk (bad_value)"
    if code == "review_empty_text":
        rec["text"] = ""
        return dumps(rec), "review with empty `text` \"\" (blank counts as missing; missing_field)"
    if code == "review_no_text":
        rec.pop("text", None)
        rec.pop("lang", None)
        return dumps(rec), "review without `text` (only score-carrying surveys may omit it; missing_field)"
    if code == "id_empty":
        rec["id"] = ""
        return dumps(rec), "`id` is an empty string (missing_field / bad_value)"
    if code == "id_200":
        rec["id"] = ("demo-%06d-" % line_no + "".join(rng.choice("0123456789abcdef") for _ in range(200)))[:200]
        return dumps(rec), "`id` is 200 characters, over the 128 limit (bad_value)"
    if code == "unknown_key":
        rec = _set(rec, "userName", rng.choice(["小王", "林小姐", "Kevin", "陳生"]), after="source")
        return dumps(rec), "unknown top-level key `userName` (unknown_field)"
    if code == "attr_number":
        attrs = {"order_id": rng.randrange(10 ** 11, 10 ** 12)}
        attrs.update({k: v for k, v in (rec.get("attributes") or {}).items() if k != "order_id"})
        rec["attributes"] = attrs
        return dumps(rec), "`attributes.order_id` is a number, attributes must be string to string (bad_type)"
    if code == "text_nul":
        s = rec["text"]
        k = max(1, len(s) // 2)
        rec["text"] = s[:k] + "\u0000" + s[k:]
        return dumps(rec), "`text` contains a NUL control character (\\u0000) (bad_value)"
    if code == "future":
        rec["created_at"] = "2099-01-01T00:00:00Z"
        if "ticket" in rec:
            rec["ticket"]["opened_at"] = "2099-01-01T00:00:00Z"
            rec["ticket"].pop("first_response_at", None)
            rec["ticket"].pop("resolved_at", None)
            rec["ticket"]["status"] = "open"
        return dumps(rec), "`created_at` 2099-01-01T00:00:00Z is absurdly in the future (bad_value)"
    if code == "opened_at_bad":
        rec["ticket"]["opened_at"] = "昨天下午三点"
        return dumps(rec), "`ticket.opened_at` \"昨天下午三点\" is not a timestamp (bad_value)"
    if code == "text_number":
        rec["text"] = 5
        return dumps(rec), "`text` is the number 5, not a string (bad_type)"
    raise ValueError(code)


INVALID_CODES = [
    "truncated", "array", "bare_string", "missing_id", "missing_created_at", "missing_kind",
    "kind_email", "created_at_format", "rating_7", "rating_string", "nps_11", "csat_0", "ces_9",
    "segment_vip", "review_empty_text", "review_no_text", "id_empty", "id_200", "unknown_key",
    "attr_number", "text_nul", "future", "opened_at_bad", "text_number",
]
assert len(INVALID_CODES) == N_INVALID


# ---------------------------------------------------------------------------
# Plan, order, write
# ---------------------------------------------------------------------------

def plan(rng):
    kinds = [k for k, n in KIND_COUNTS.items() for _ in range(n)]
    assert len(kinds) == N_VALID
    rng.shuffle(kinds)
    survey_idx = [i for i, k in enumerate(kinds) if k == "survey"]
    textless = set(rng.sample(survey_idx, TEXTLESS_SURVEYS))
    texted = [i for i in range(N_VALID) if i not in textless]
    n = len(texted)
    lang_counts = {"cn": round(n * 0.60), "tw": round(n * 0.11), "hk": round(n * 0.09), "en": round(n * 0.15)}
    lang_counts["mix"] = n - sum(lang_counts.values())
    langs = [lang for lang, c in lang_counts.items() for _ in range(c)]
    rng.shuffle(langs)
    lang_of = dict(zip(texted, langs))
    pool = list(texted)
    rng.shuffle(pool)
    story_of = {i: "delivery" for i in pool[:N_STORY_DELIVERY]}
    story_of.update({i: "app" for i in pool[N_STORY_DELIVERY:N_STORY_DELIVERY + N_STORY_APP]})
    return kinds, textless, lang_of, story_of


def generate():
    rng = random.Random(SEED)
    customers = Customers(rng)
    kinds, textless, lang_of, story_of = plan(rng)

    built = []
    for i in range(N_VALID):
        rec, meta = build_record(rng, customers, kinds[i], lang_of.get(i), textless=i in textless,
                                 story=story_of.get(i))
        # Arrival order: roughly by event time, with jitter and some late arrivals.
        key = meta["time"] + dt.timedelta(seconds=rng.randint(-7200, 7200))
        if rng.random() < 0.03:
            key += dt.timedelta(hours=rng.uniform(6, 36))
        built.append((key, i, rec, meta))
    built.sort(key=lambda x: (x[0], x[1]))

    positions = sorted(rng.sample(range(2, N_LINES + 1), N_INVALID))
    codes = list(INVALID_CODES)
    rng.shuffle(codes)
    invalid_at = dict(zip(positions, codes))

    lines, valid_meta, invalid_rows = [], [], []
    it = iter(built)
    last_time = WINDOW_START
    for line_no in range(1, N_LINES + 1):
        if line_no in invalid_at:
            raw, why = make_invalid(rng, customers, invalid_at[line_no], line_no,
                                    last_time + dt.timedelta(seconds=rng.randint(5, 600)))
            lines.append(raw)
            invalid_rows.append((line_no, invalid_at[line_no], why))
            continue
        _, _, rec, meta = next(it)
        rec["id"] = "demo-%06d" % line_no
        lines.append(dumps(rec))
        meta["line"] = line_no
        valid_meta.append(meta)
        last_time = meta["time"]
    return lines, valid_meta, invalid_rows


# ---------------------------------------------------------------------------
# Verification and summary
# ---------------------------------------------------------------------------

KEY_ORDER = ["id", "kind", "created_at", "source", "channel", "lang", "text", "customer", "rating",
             "survey", "ticket", "attributes"]


def verify(lines, valid_meta, invalid_rows):
    invalid_lines = {n for n, _, _ in invalid_rows}
    assert len(lines) == N_LINES and len(invalid_lines) == N_INVALID
    assert len({c for _, c, _ in invalid_rows}) == N_INVALID
    ids = set()
    by_line = {m["line"]: m for m in valid_meta}
    for n, raw in enumerate(lines, 1):
        if n in invalid_lines:
            continue
        rec = json.loads(raw)
        keys = list(rec)
        assert keys == [k for k in KEY_ORDER if k in rec], (n, keys)
        assert 1 <= len(rec["id"]) <= 128 and rec["id"] not in ids, n
        ids.add(rec["id"])
        assert rec["kind"] in KIND_COUNTS
        t = dt.datetime.fromisoformat(rec["created_at"].replace("Z", "+00:00"))
        assert WINDOW_START <= t <= WINDOW_END and t.tzinfo is not None, n
        assert rec["source"].strip()
        text = rec.get("text")
        if text is None:
            assert rec["kind"] == "survey" and rec["survey"], n
        else:
            assert isinstance(text, str) and text.strip(), n
            assert not any(ord(ch) < 0x20 for ch in text), n
        if "rating" in rec:
            assert isinstance(rec["rating"], int) and 1 <= rec["rating"] <= 5
        for k, (lo, hi) in {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}.items():
            if k in rec.get("survey", {}):
                assert lo <= rec["survey"][k] <= hi
        if "customer" in rec:
            assert rec["customer"].get("segment", "new") in ("new", "returning", "high_value", "at_risk")
        if "ticket" in rec:
            tk = rec["ticket"]
            prev = None
            for f in ("opened_at", "first_response_at", "resolved_at"):
                if f in tk:
                    v = dt.datetime.fromisoformat(tk[f].replace("Z", "+00:00"))
                    assert prev is None or v >= prev, n
                    prev = v
            assert tk["status"] in ("open", "pending", "resolved", "closed")
        for v in rec.get("attributes", {}).values():
            assert isinstance(v, str)
        assert by_line[n]["kind"] == rec["kind"]
    assert len(ids) == N_VALID
    # every theme in both polarities
    seen = {(t, p) for m in valid_meta for t, p in m["themes"]}
    missing = [(t, p) for t in THEME_IDS for p in ("neg", "pos") if (t, p) not in seen]
    assert not missing, missing
    for n, code, _ in invalid_rows:
        raw = lines[n - 1]
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError:
            assert code == "truncated", n   # only the truncated line is not JSON
            continue
        assert code != "truncated", n
        assert "invalid" not in raw.lower(), n   # nothing marks a line as invalid


def summary(lines, valid_meta, invalid_rows, size):
    c = collections.Counter
    out = []
    out.append("wrote %s: %d lines (%d valid, %d invalid), %d bytes"
               % (OUT_FILE.relative_to(ROOT), len(lines), len(valid_meta), len(invalid_rows), size))
    kinds = c(m["kind"] for m in valid_meta)
    out.append("kinds:     " + ", ".join("%s %d (%.0f%%)" % (k, kinds[k], 100 * kinds[k] / N_VALID)
                                       for k in KIND_COUNTS))
    texted = [m for m in valid_meta if not m["textless"]]
    langs = c(m["lang"] for m in texted)
    out.append("languages (%d texted): " % len(texted) + ", ".join(
        "%s %d (%.0f%%)" % (LANG_HINT[k] if k != "mix" else "mixed", langs[k], 100 * langs[k] / len(texted))
        for k in LANGS))
    out.append("surveys without text: %d of %d" % (sum(m["textless"] for m in valid_meta), kinds["survey"]))
    sent = c(m["sentiment"] for m in valid_meta)
    out.append("sentiment: " + ", ".join("%s %d" % kv for kv in sorted(sent.items())))
    flags = c(f for m in valid_meta for f in set(m["flags"]))
    out.append("flags:     " + ", ".join("%s %d" % kv for kv in sorted(flags.items())))
    out.append("negation constructions: %d; contrast (mixed) messages: %d; neutral questions: %d; no theme: %d"
               % (sum(m["negation"] for m in valid_meta), sent["mixed"],
                  sum(1 for m in texted if m["sentiment"] == "neutral" and m["themes"]),
                  sum(1 for m in texted if not m["themes"])))
    tp = c((t, p) for m in valid_meta for t, p in set(m["themes"]))
    out.append("themes (messages mentioning, neg/pos/neutral):")
    for t in THEME_IDS:
        out.append("  %-19s %4d / %4d / %3d" % (t, tp[(t, "neg")], tp[(t, "pos")], tp[(t, "neutral")]))
    story = c(m["story"] for m in valid_meta if m["story"])
    out.append("story: %d delivery backlog (Nov 13-14), %d app 5.2 crash (from Nov 12 21:00)"
               % (story["delivery"], story["app"]))
    daily = c()
    for m in valid_meta:
        if ("delivery", "neg") in m["themes"]:
            daily[m["time"].day] += 1
    out.append("negative delivery per day: " + " ".join("%d:%d" % (d, daily[d]) for d in range(1, 15)))
    crash = c(m["time"].day for m in valid_meta if ("website_app", "neg") in m["themes"])
    out.append("negative website_app per day: " + " ".join("%d:%d" % (d, crash[d]) for d in range(1, 15)))
    cust = c(m["customer"] for m in valid_meta if m["customer"])
    out.append("customers: %d messages (%.0f%%) from %d customers, %d repeat customers (max %d messages)"
               % (sum(cust.values()), 100 * sum(cust.values()) / N_VALID, len(cust),
                  sum(1 for v in cust.values() if v > 1), max(cust.values())))
    texts = c(json.loads(lines[m["line"] - 1]).get("text") for m in texted)
    out.append("distinct texts: %d of %d texted messages" % (len(texts), len(texted)))
    out.append("invalid lines: " + ", ".join(str(n) for n, _, _ in invalid_rows))
    return "\n".join(out)


def write_readme(valid_meta, invalid_rows, stats):
    rows = "\n".join("| %d | `%s` | %s |" % (n, code, why) for n, code, why in invalid_rows)
    text = f"""# Demo sample: `feedback.jsonl`

The bundled input for `tongdian demo`: {N_LINES:,} lines of customer feedback in the
envelope format of `schemas/feedback.schema.json`, one compact JSON object per line
(UTF-8, keys in the order id, kind, created_at, source, channel, lang, text, customer,
rating, survey, ticket, attributes; absent optional keys are omitted).

**Synthetic.** Every message was written for this project: the generator assembles
texts from hand-written clause templates (Simplified Chinese, Taiwan and Hong Kong
usage, English, mixed Chinese-English). Nothing is copied from any dataset; names,
order ids and customer ids are random.

## How it was generated

```
python3 scripts/make_demo_sample.py
```

Python 3.11, standard library only, fixed seed ({SEED}): running it again produces a
byte-identical file (and this README). Edit the clause banks in the script and rerun
to change the sample.

## What is in it

- {N_VALID:,} valid envelopes and {N_INVALID} invalid lines (below).
- Kinds: review 40 %, ticket 25 %, survey 20 %, social 15 %.
- Languages of texted messages: about 60 % Simplified Chinese, 20 % Traditional
  Chinese (Taiwan `zh-TW` and Hong Kong Cantonese `zh-HK`), 15 % English, 5 % mixed
  Chinese-English. The `lang` hint is left out on some messages on purpose.
- All 17 themes of the default taxonomy in both negative and positive messages, plus
  contrast sentences (物流很快，但是客服态度很差), negation (一点也不好用), neutral
  questions (请问这个有现货吗？), messages with no theme, slang and emoji, and the risk
  flags: churn threats (再也不买了, 卸载了, 销户), escalations (12315, 消协, 曝光, 律师),
  safety hazards (食物中毒, 漏电, 异物) and expectation gaps (与描述不符, 图片仅供参考).
- Reviews carry a `rating` consistent-ish with their text (a few deliberate mis-clicks).
- Surveys carry scores consistent-ish with their text (detractors 0-6 with complaints,
  promoters 9-10 with praise); about a third carry scores and no text.
  `ces` is on the 1-7 agreement scale "it was easy to handle my request": 1 = very hard,
  7 = very easy.
- Tickets carry `ticket` timing: many chat first responses within 30 s, slower phone and
  email queues, after-sales first responses sometimes beyond 2 h; tickets opened near
  the end of the window may still be `open` or `pending`.
- Event times 2026-11-01 .. 2026-11-14 (+08:00; a few producers send UTC `Z`), with a
  daily cycle peaking in the evening. Lines are roughly, not strictly, in time order
  (jitter and some late arrivals).
- About 30 % of messages carry a `customer` with a segment; some customers write
  several times.

Note that `created_at` is validated against the worker's clock (at most one day ahead
by default), so the demo must run with a clock at or after the sample window.

### The story the demo should surface

1. **Delivery backlog after 双十一.** On 2026-11-13 and 2026-11-14 negative `delivery`
   complaints spike (快递三天没更新, 卡在转运中心, 双十一爆仓); tickets about them get
   slower first responses and stay `pending` more often, and some carry churn threats.
2. **App 5.2 crashes.** After app version 5.2 is released on 2026-11-12 21:00 (+08:00),
   `website_app` complaints burst (新版本5.2一直闪退); these carry
   `attributes.app_version` = `5.2.0`.

## Invalid lines

These {N_INVALID} lines each break exactly one rule of the input contract and should
end up as dead letters; nothing inside them marks them as invalid. Line numbers are
1-based.

| line | case | violation |
|---:|---|---|
{rows}

## Counts from the last generation

```
{stats}
```
"""
    README_FILE.write_text(text, encoding="utf-8")


def main():
    lines, valid_meta, invalid_rows = generate()
    verify(lines, valid_meta, invalid_rows)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    OUT_FILE.write_bytes(data)
    stats = summary(lines, valid_meta, invalid_rows, len(data))
    write_readme(valid_meta, invalid_rows, stats)
    print(stats)


if __name__ == "__main__":
    sys.exit(main())
