#!/usr/bin/env python3
# Usage: python3 tests/plugins/translate/data/make_fidelity_cases.py tests/plugins/translate/data/fidelity_cases.jsonl
# Writes tests/plugins/translate/data/fidelity_cases.jsonl: faithful translations written by hand, and planted
# errors made from them by the hand-chosen edits below. The originals are not copied: `src` names them.
import json, sys
G = lambda n: f"gsm8k/test.jsonl:{n}"
M = lambda uid: f"math/math500_test.jsonl:{uid}"
F = {}  # key -> (src, lang, text)
def f(key, src, lang, text): F[key] = (src, lang, text)
NB = "\u00a0"
# ---- French
f("g3-fr", G(3), "fr", "Josh décide de se lancer dans l'achat-revente d'une maison. Il achète une maison pour 80 000 $, puis dépense 50 000 $ en réparations. Cela a augmenté la valeur de la maison de 150 %. Quel bénéfice a-t-il réalisé ?")
f("g12-fr", G(12), "fr", "Toula est allée à la boulangerie et a acheté différentes sortes de pâtisseries. Elle a acheté 3 douzaines de beignets à 68 $ la douzaine, 2 douzaines de mini cupcakes à 80 $ la douzaine et 6 douzaines de mini cheesecakes à 55 $ la douzaine. Quel a été le coût total ?")
f("g13-fr", G(13), "fr", "Carlos plante un citronnier. La plantation de l'arbre coûtera 90 $. Chaque année, il produira 7 citrons, qu'il pourra vendre 1,5 $ pièce. L'arrosage et l'entretien de l'arbre coûtent 3 $ par an. Combien d'années faudra-t-il avant qu'il commence à gagner de l'argent grâce à ce citronnier ?")
f("m3-fr", M("test/algebra/2584.json"), "fr", r"Si $f(x) = \frac{3x-2}{x-2}$, quelle est la valeur de $f(-2) +f(-1)+f(0)$ ? Donnez votre réponse sous forme de fraction irréductible.")
f("m13-fr", M("test/number_theory/737.json"), "fr", r"Les diviseurs propres de 12 sont 1, 2, 3, 4 et 6. Un diviseur propre d'un entier $N$ est un diviseur positif de $N$ strictement inférieur à $N$. Quelle est la somme des diviseurs propres de la somme des diviseurs propres de 284 ?")
f("m39-fr", M("test/algebra/24.json"), "fr", r"Si une petite boîte de pêches contient $40$ calories, soit $2\%$ des besoins caloriques quotidiens d'une personne, combien de calories couvrent les besoins caloriques quotidiens d'une personne ?")
# ---- German
f("g1-de", G(1), "de", "Janets Enten legen 16 Eier pro Tag. Sie isst jeden Morgen drei zum Frühstück und backt jeden Tag mit vier davon Muffins für ihre Freunde. Den Rest verkauft sie täglich auf dem Bauernmarkt für 2 $ pro frischem Entenei. Wie viel Dollar nimmt sie jeden Tag auf dem Bauernmarkt ein?")
f("g16-de", G(16), "de", "Ein Händler möchte sich zwischen 2 Kaufplänen entscheiden: Schmuck im Wert von 5.000 $ oder elektronische Geräte im Wert von 8.000 $. Sein Finanzberater vermutet, dass der Schmuckmarkt innerhalb desselben Monats um 2,5 % steigen wird, der Markt für elektronische Geräte dagegen um 1,2 %. Wenn der Händler durch seine Wahl den Gewinn am Ende dieses Monats maximieren möchte, wie hoch wäre dieser Gewinn?")
f("g18-de", G(18), "de", "Jill verdient 20 $ pro Stunde als Lehrerin und 30 $ als Cheerleading-Trainerin. Wenn sie 50 Wochen im Jahr arbeitet, davon 35 Stunden pro Woche als Lehrerin und 15 Stunden pro Woche als Trainerin, wie hoch ist ihr Jahresgehalt?")
f("m4-de", M("test/number_theory/572.json"), "de", "Wie viele positive ganzzahlige Teiler hat die Zahl 196?")
f("m17-de", M("test/intermediate_algebra/134.json"), "de", r"Berechne: $1-2+3-4+5- \dots +99-100$.")
f("m36-de", M("test/number_theory/627.json"), "de", r"Wenn $n \equiv 2 \pmod{7}$ gilt, bestimme den Rest, den $(n + 2)(n + 4)(n + 6)$ bei der Division durch 7 lässt.")
# ---- Chinese
f("g4-zh", G(4), "zh", "詹姆斯决定每周跑3次冲刺，每次跑3组。每组冲刺跑60米。他每周总共跑多少米？")
f("g8-zh", G(8), "zh", "卡拉正在下载一个200 GB的文件。通常她每分钟可以下载2 GB，但下载到40%时，Windows强制重启以安装更新，这需要20分钟。之后卡拉必须从头开始重新下载。下载这个文件总共需要多长时间？")
f("g1-zh", G(1), "zh", "珍妮特的鸭子每天下16个蛋。她每天早上早餐吃掉3个，每天还用4个给朋友烤松饼。剩下的蛋她每天在农贸市场以每个新鲜鸭蛋2美元的价格出售。她每天在农贸市场能赚多少美元？")
f("g3-zh", G(3), "zh", "乔希决定尝试炒房。他花8万美元买了一套房子，然后投入5万美元进行装修。这使房子的价值增加了150%。他获得了多少利润？")
f("m9-zh", M("test/algebra/2036.json"), "zh", r"点 $(2, -6)$ 和 $(-4, 3)$ 之间的距离是多少个单位？请用最简根式表示你的答案。")
f("m29-zh", M("test/precalculus/779.json"), "zh", r"对 $7 + 2i.$ 施行绕原点逆时针方向的 $90^\circ$ 旋转，得到的复数是多少？")
# ---- Spanish
f("g6-es", G(6), "es", "Kylar fue a la tienda a comprar vasos para su nuevo apartamento. Un vaso cuesta 5 $, pero cada segundo vaso cuesta solo el 60 % del precio. Kylar quiere comprar 16 vasos. ¿Cuánto tiene que pagar por ellos?")
f("g10-es", G(10), "es", "La tarifa por hora de Eliza durante las primeras 40 horas que trabaja cada semana es de 10 $. Además, recibe un pago por horas extra de 1,2 veces su tarifa horaria normal. Si Eliza trabajó 45 horas esta semana, ¿cuánto ganó esta semana?")
f("g22-es", G(22), "es", "Raymond y Samantha son primos. Raymond nació 6 años antes que Samantha. Raymond tuvo un hijo a los 23 años. Si Samantha tiene ahora 31 años, ¿hace cuántos años nació el hijo de Raymond?")
f("m34-es", M("test/algebra/1072.json"), "es", r"Considera la sucesión geométrica $\frac{125}{9}, \frac{25}{3}, 5, 3, \ldots$. ¿Cuál es el octavo término de la sucesión? Expresa tu respuesta como fracción común.")
f("m40-es", M("test/number_theory/45.json"), "es", "¿Cuál es el resultado cuando el máximo común divisor de 6432 y 132 se incrementa en 11?")
f("m50-es", M("test/prealgebra/1388.json"), "es", r"La mitad del valor de $3x-9$ es $x+37$. ¿Cuál es el valor de $x$?")
# ---- Italian
f("g15-it", G(15), "it", "In una classe di danza di 20 studenti, il 20% si è iscritto a danza contemporanea, il 25% dei rimanenti si è iscritto a danza jazz e il resto si è iscritto a danza hip-hop. Quale percentuale del totale degli studenti si è iscritta a danza hip-hop?")
f("g17-it", G(17), "it", "Due treni partono da San Rafael alla stessa ora. Iniziano a viaggiare verso ovest, percorrendo entrambi 80 miglia. Il giorno dopo viaggiano verso nord, coprendo 150 miglia. Qual è la distanza percorsa da ciascun treno nei due giorni?")
f("g21-it", G(21), "it", "Ho 10 litri di aranciata composta per due terzi da acqua e voglio aggiungerla a 15 litri di bevanda all'ananas composta per tre quinti da acqua. Ma mentre la verso, rovescio un litro di aranciata. Quanta acqua c'è nei 24 litri rimanenti?")
f("m12-it", M("test/intermediate_algebra/1197.json"), "it", "Sia $p(x)$ un polinomio di grado 5 tale che\n\\[p(n) = \\frac{n}{n^2 - 1}\\]per $n = 2,$ 3, 4, $\\dots,$ 7.  Trova $p(8).$")
f("m45-it", M("test/prealgebra/1558.json"), "it", r"Bill cammina per $\frac{1}{2}$ miglio verso sud, poi per $\frac{3}{4}$ di miglio verso est e infine per $\frac{1}{2}$ miglio verso sud. A quante miglia si trova, in linea retta, dal punto di partenza? Esprimi la risposta come numero decimale arrotondato al centesimo.")
f("m1-it", M("test/precalculus/807.json"), "it", r"Converti il punto $(0,3)$ da coordinate rettangolari a coordinate polari. Scrivi la risposta nella forma $(r,\theta),$ dove $r > 0$ e $0 \le \theta < 2 \pi.$")
# ---- Russian
f("g5-ru", G(5), "ru", "Каждый день Венди даёт каждой из своих кур по три стакана смешанного корма из семян, мучных червей и овощей, чтобы они оставались здоровыми. Она кормит кур в три приёма. Утром она даёт своей стае 15 стаканов корма. Днём она даёт курам ещё 25 стаканов корма. Сколько стаканов корма ей нужно дать курам во время последнего кормления, если в стае Венди 20 кур?")
f("g11-ru", G(11), "ru", "В первый месяц новую программу скачали 60 раз. Во второй месяц число скачиваний было в три раза больше, чем в первый, но в третий месяц оно снизилось на 30 %. Сколько всего раз программу скачали за три месяца?")
f("g14-ru", G(14), "ru", "Мелани продаёт пылесосы, обходя дома. Треть своих пылесосов она продала в зелёном доме, ещё 2 — в красном доме, а половину оставшихся — в оранжевом доме. Если у Мелани осталось 5 пылесосов, сколько пылесосов было у неё вначале?")
f("g3-ru", G(3), "ru", f"Джош решает попробовать перепродать дом. Он покупает дом за 80{NB}000 $, а затем вкладывает 50{NB}000 $ в ремонт. Это увеличило стоимость дома на 150 %. Какую прибыль он получил?")
f("m37-ru", M("test/intermediate_algebra/428.json"), "ru", r"Найдите корни уравнения $(x - 3)^3 + (x -7)^3 = (2x - 10)^3.$")
f("m43-ru", M("test/algebra/2214.json"), "ru", r"Решение неравенства $-4 < 2(x - 1) < 8$ записывается в виде $a < x < b$. Найдите значение $a + b$.")

# ---- Faithful variants: numbers in the source's format or as words/digits, notes the original has,
# label-like words inside sentences, formula-heavy short texts.
f("m993-de", M("test/prealgebra/993.json"), "de", r"Im Jahr 1992 konnte man in Italien eine Kugel Gelato für 1200 Lire kaufen. Dasselbe Gelato hätte in den USA $\$1.50$ gekostet. Wie viele Dollar entsprächen beim entsprechenden Wechselkurs zwischen Lira und Dollar 1.000.000 Lire?")
f("m2037-fr", M("test/prealgebra/2037.json"), "fr", "Karla a parcouru 12 000 miles avec son véhicule l'année dernière. Combien de gallons d'essence aurait-elle économisés l'année dernière si elle avait conduit une voiture hybride économe en carburant faisant en moyenne 48 miles par gallon plutôt qu'un SUV faisant en moyenne 15 miles par gallon ?")
f("m2037-ru", M("test/prealgebra/2037.json"), "ru", f"В прошлом году Карла проехала на своём автомобиле 12{NB}000 миль. Сколько галлонов бензина она сэкономила бы в прошлом году, если бы ездила на экономичном гибридном автомобиле, проезжающем в среднем 48 миль на галлон, а не на внедорожнике, проезжающем в среднем 15 миль на галлон?")
f("m1009-es", M("test/counting_and_probability/1009.json"), "es", "Pat debe elegir seis galletas de una bandeja que solo contiene galletas con chispas de chocolate, de avena y de mantequilla de cacahuete. En la bandeja hay al menos seis galletas de cada uno de estos tres tipos. ¿Cuántos surtidos diferentes de seis galletas se pueden elegir? (Ten en cuenta que las galletas del mismo tipo no se distinguen.)")
f("m675-it", M("test/precalculus/675.json"), "it", "Trova il più piccolo numero reale positivo $C$ tale che\n\\[\\left\\| \\begin{pmatrix} 2 & 3 \\\\ 0 & -2 \\end{pmatrix} \\bold{v} \\right\\| \\le C \\|\\bold{v}\\|\\]per tutti i vettori bidimensionali $\\bold{v}.$\n\nNota: per un vettore bidimensionale $\\mathbf{a},$ $\\|\\mathbf{a}\\|$ è il modulo di $\\mathbf{a}.$")
f("g16-de-v", G(16), "de", "Ein Händler möchte sich zwischen 2 Kaufplänen entscheiden: Schmuck im Wert von 5,000 $ oder elektronische Geräte im Wert von 8,000 $. Sein Finanzberater vermutet, dass der Schmuckmarkt innerhalb desselben Monats um 2.5 % steigen wird, der Markt für elektronische Geräte dagegen um 1.2 %. Wenn der Händler durch seine Wahl den Gewinn am Ende dieses Monats maximieren möchte, wie hoch wäre dieser Gewinn?")
f("g3-fr-v", G(3), "fr", "Josh décide de se lancer dans l'achat-revente d'une maison. Il achète une maison 80,000 $ puis investit 50,000 $ dans des réparations. Cela augmente la valeur de la maison de 150%. Quel bénéfice a-t-il fait ?")
f("g1-de-v", G(1), "de", "Janets Enten legen 16 Eier am Tag. Sie isst jeden Morgen 3 zum Frühstück und backt jeden Tag mit 4 Eiern Muffins für ihre Freunde. Den Rest verkauft sie täglich auf dem Bauernmarkt für 2 $ pro frischem Entenei. Wie viel Dollar verdient sie jeden Tag auf dem Bauernmarkt?")
f("g1-fr", G(1), "fr", "Les canes de Janet pondent 16 œufs par jour. Elle en mange trois au petit-déjeuner chaque matin et en utilise quatre chaque jour pour faire des muffins pour ses amis. Elle vend le reste chaque jour au marché fermier à 2 $ l'œuf de cane frais. Combien de dollars gagne-t-elle chaque jour au marché fermier ?")
f("g5-ru-v", G(5), "ru", "Каждый день Венди даёт каждой из своих кур по 3 стакана смешанного корма, в котором есть семена, мучные черви и овощи, чтобы куры оставались здоровыми. Корм она даёт курам в 3 приёма. Утром она даёт стае 15 стаканов корма. Днём — ещё 25 стаканов. Сколько стаканов корма ей нужно дать курам в последний приём пищи, если в стае Венди 20 кур?")
f("g21-zh", G(21), "zh", "我有10升橙汁饮料，其中三分之二是水，我想把它加入15升菠萝饮料中，菠萝饮料的五分之三是水。但在倒的时候，我洒掉了1升橙汁饮料。剩下的24升饮料中有多少水？")
f("g17-zh", G(17), "zh", "两列火车同时离开圣拉斐尔。它们开始向西行驶，都行驶了80英里。第二天，它们向北行驶，行驶了150英里。每列火车在这两天里行驶的距离是多少？")
f("g10-it", G(10), "it", "La paga oraria di Eliza per le prime 40 ore di lavoro settimanali è di 10 $. Per gli straordinari riceve inoltre 1,2 volte la sua normale paga oraria. Se questa settimana Eliza ha lavorato 45 ore, quanto ha guadagnato questa settimana?")
f("m17-zh", M("test/intermediate_algebra/134.json"), "zh", r"计算：$1-2+3-4+5- \dots +99-100$。")
f("m4-ru", M("test/number_theory/572.json"), "ru", "Сколько натуральных делителей у числа 196?")
f("m3-de", M("test/algebra/2584.json"), "de", r"Wenn $f(x) = \frac{3x-2}{x-2}$ ist, welchen Wert hat $f(-2) +f(-1)+f(0)$? Gib deine Antwort als gewöhnlichen Bruch an.")
f("m43-fr", M("test/algebra/2214.json"), "fr", r"La solution de $-4 < 2(x - 1) < 8$ s'écrit sous la forme $a < x < b$. Trouver la valeur de $a + b$.")
f("g13-zh", G(13), "zh", "卡洛斯正在种一棵柠檬树。种这棵树要花90美元。这棵树每年会结7个柠檬，他每个可以卖1.5美元。每年给树浇水和施肥要花3美元。他要过多少年才能开始从这棵柠檬树上赚钱？")
f("g18-es", G(18), "es", "A Jill le pagan 20 $ por hora como profesora y 30 $ como entrenadora de animadoras. Si trabaja 50 semanas al año, 35 horas semanales como profesora y 15 horas semanales como entrenadora, ¿cuál es su salario anual?")

out = []
for k, (src, lang, text) in F.items():
    out.append({"id": k, "src": src, "lang": lang, "label": "faithful", "text": text})

n = {}
def plant(key, check, what, edit=None, text=None, lang=None, base=None):
    src, l, t = F[key]
    if text is None:
        old, new = edit
        assert t.count(old) >= 1, (key, old)
        text = t.replace(old, new, 1)
    n[key] = n.get(key, 0) + 1
    out.append({"id": f"{key}-{check}{n[key]}", "src": src, "lang": lang or l, "label": "planted", "check": check, "what": what, "text": text})

N = "numbers_changed"
for key, old, new in [
    ("g3-fr", "80 000 $", "8 000 $"), ("g3-fr", "150 %", "15 %"), ("g12-fr", "6 douzaines", "3 douzaines"), ("g12-fr", "68 $", "86 $"),
    ("g13-fr", "1,5 $", "15 $"), ("g13-fr", "7 citrons", "3 citrons"), ("m13-fr", "3, 4 et 6", "3, 4 et 5"), ("m13-fr", "de 284", "de 248"),
    ("g1-de", "16 Eier", "18 Eier"), ("g1-de", "für 2 $", "für einen Dollar"), ("g16-de", "5.000 $", "8.000 $"), ("g16-de", "2,5 %", "1,2 %"),
    ("g18-de", "35 Stunden", "15 Stunden"), ("g18-de", "50 Wochen", "52 Wochen"), ("m4-de", "196", "169"),
    ("g4-zh", "每周跑3次", "每周跑4次"), ("g8-zh", "200 GB", "20 GB"), ("g8-zh", "40%", "60%"), ("g1-zh", "16个蛋", "6个蛋"), ("g3-zh", "5万", "15万"),
    ("g6-es", "16 vasos", "6 vasos"), ("g6-es", "60 %", "50 %"), ("g10-es", "1,2 veces", "1,5 veces"), ("g10-es", "45 horas", "40 horas"),
    ("g22-es", "23 años", "32 años"), ("g22-es", "31 años", "13 años"), ("m40-es", "6432", "6342"), ("m40-es", "en 11", "en 12"),
    ("g15-it", "il 25%", "il 20%"), ("g17-it", "150 miglia", "80 miglia"), ("g21-it", "15 litri", "10 litri"), ("g21-it", "24 litri", "25 litri"),
    ("g5-ru", "15 стаканов", "25 стаканов"), ("g5-ru", "20 кур", "25 кур"), ("g11-ru", "60 раз", "50 раз"), ("g11-ru", "30 %", "3 %"),
    ("g14-ru", "ещё 2", "ещё 3"), ("g14-ru", "осталось 5", "осталось 6"), ("g3-ru", f"80{NB}000", f"85{NB}000"), ("m12-it", "grado 5", "grado 6")]:
    plant(key, N, f"{old} -> {new}", (old, new))

L = "latex_changed"
for key, old, new in [
    ("m3-fr", "+f(-1)+", "+f(1)+"), ("m3-fr", r"\frac{3x-2}", r"\frac{3x+2}"), ("m13-fr", "inférieur à $N$", "inférieur à $n$"),
    ("m39-fr", r"$2\%$", r"$20\%$"), ("m39-fr", "$40$ calories", "40 calories"), ("m17-de", "+99-100$", "+99-101$"),
    ("m17-de", r"$1-2+3-4+5- \dots +99-100$", r"$1+2+3+4+5+ \dots +99+100$"), ("m36-de", r"\pmod{7}", r"\pmod{5}"),
    ("m36-de", "$(n + 2)(n + 4)(n + 6)$", "$(n + 2)(n + 4)$"), ("m9-zh", "$(-4, 3)$", "$(4, 3)$"), ("m9-zh", "$(2, -6)$", "$(2, 6)$"),
    ("m29-zh", r"$90^\circ$", r"$180^\circ$"), ("m29-zh", "$7 + 2i.$", "$7 - 2i.$"), ("m34-es", r"\frac{25}{3}", r"\frac{25}{9}"),
    ("m34-es", ", 5, 3, ", ", 5, "), ("m50-es", "$x+37$", "$x+73$"), ("m50-es", "$3x-9$", "$3x+9$"), ("m12-it", "{n^2 - 1}", "{n^2 + 1}"),
    ("m12-it", "$p(8).$", "$p(9).$"), ("m45-it", r"$\frac{3}{4}$", r"$\frac{4}{3}$"), ("m1-it", r"< 2 \pi.$", r"< \pi.$"),
    ("m37-ru", "(2x - 10)^3", "(2x - 10)^2"), ("m43-ru", "2(x - 1)", "2(x + 1)"), ("m43-ru", "$a < x < b$", "$a \\le x \\le b$")]:
    plant(key, L, f"{old} -> {new}", (old, new))

A = "added_content"
def pre(key, p, what, check=A): plant(key, check, what, text=p + F[key][2])
def post(key, p, what, check=A): plant(key, check, what, text=F[key][2] + p)
pre("g3-fr", "Voici la traduction :\n\n", "preamble fr"); pre("g13-fr", "Here is the translation:\n\n", "preamble en")
post("g12-fr", "\n\nRéponse : 694 $", "answer fr"); post("g13-fr", " Réponse : il lui faut 12 ans... soit environ 2", "answer fr, same line")
pre("m13-fr", "Traduction :\n", "label fr"); post("g12-fr", "\n\n(Remarque : « cupcakes » et « cheesecakes » sont laissés en anglais.)", "note fr")
post("m3-fr", "\n\n$\\boxed{\\frac{14}{3}}$", "boxed answer")
pre("g1-de", "Hier ist die Übersetzung:\n\n", "preamble de"); post("g1-de", "\n\nAntwort: 18 $", "answer de")
pre("m4-de", "Übersetzung:\n", "label de"); post("g18-de", "\n\nHinweis: „Cheerleading“ wurde nicht übersetzt.", "note de")
pre("g16-de", "Gerne! Hier ist die Übersetzung ins Deutsche:\n\n", "preamble de, courtesy"); pre("m17-de", "Translation:\n", "label en")
pre("g8-zh", "以下是翻译：\n\n", "preamble zh"); post("g4-zh", "\n\n答案：540米", "answer zh"); pre("g1-zh", "好的，以下是中文翻译：\n", "preamble zh, courtesy")
post("g8-zh", "\n\n注：GB指千兆字节。", "note zh"); post("g3-zh", "\n答：他获得了7万美元的利润。", "answer zh"); post("m29-zh", " The answer is $-2 + 7i$.", "answer en")
pre("g6-es", "Aquí está la traducción:\n\n", "preamble es"); post("g6-es", "\n\nRespuesta: 64 $", "answer es"); pre("m40-es", "Traducción:\n", "label es")
post("g10-es", "\n\nNota: se mantuvo el símbolo $ del original.", "note es"); pre("g22-es", "¡Claro! Aquí tienes la traducción al español:\n\n", "preamble es, courtesy")
pre("m50-es", "Sure! Here's the Spanish translation:\n", "preamble en, courtesy")
pre("g15-it", "Ecco la traduzione:\n\n", "preamble it"); post("g15-it", "\n\nRisposta: 60%", "answer it"); pre("g17-it", "Traduzione:\n", "label it")
post("g17-it", "\n\nNota: le miglia non sono state convertite in chilometri.", "note it"); pre("m45-it", "Certo! Ecco la traduzione in italiano:\n\n", "preamble it, courtesy")
plant("m1-it", A, "code fence", text="```\n" + F["m1-it"][2] + "\n```"); post("m12-it", "\n\nAnswer: $p(8) = \\frac{3}{7}$", "answer en")
pre("g5-ru", "Вот перевод:\n\n", "preamble ru"); post("g5-ru", "\n\nОтвет: 20 стаканов.", "answer ru"); pre("g11-ru", "Перевод:\n", "label ru")
post("g14-ru", "\n\nПримечание: «пылесос» переведён буквально.", "note ru"); pre("g3-ru", "Конечно! Вот перевод на русский язык:\n\n", "preamble ru, courtesy")
post("g11-ru", "\n\nНадеюсь, это поможет!", "closing ru"); post("m37-ru", "\n\nNote: the equation is kept unchanged.", "note en")
post("g16-de", "\n\nIch hoffe, das hilft!", "closing de"); post("g21-it", "\n\nSpero che questo ti sia utile!", "closing it")

R = "length_ratio"
def first(key, k=1):
    t = F[key][2]
    for sep in ("。", ". ", "? "):
        pass
    import re
    parts = re.split(r"(?<=[.?!。？])\s*", t)
    return " ".join(p for p in parts[:k] if p)
for key, k in [("g12-fr", 1), ("g16-de", 1), ("g10-es", 1), ("g21-it", 1), ("g5-ru", 1), ("g8-zh", 1), ("g13-fr", 1), ("g18-de", 0)]:
    if k == 0:
        plant(key, R, "only the first words", text=F[key][2][:40])
    else:
        plant(key, R, "only the first sentence", text=first(key, k))
# The model solved the problem after translating it (no label): much longer.
post("g3-fr", "\n\nLa maison a coûté 80 000 + 50 000 = 130 000 $ au total. Sa valeur a augmenté de 150 % : 80 000 × 1,5 = 120 000 $, donc elle vaut maintenant 80 000 + 120 000 = 200 000 $. Le bénéfice est donc de 200 000 − 130 000 = 70 000 $.", "worked solution fr", check=R)
post("g18-de", "\n\nAls Lehrerin verdient sie 20 × 35 = 700 $ pro Woche, als Trainerin 30 × 15 = 450 $ pro Woche, zusammen 1.150 $ pro Woche. In 50 Wochen sind das 50 × 1.150 = 57.500 $ im Jahr.", "worked solution de", check=R)
post("g22-es", "\n\nEl hijo de Raymond nació cuando Raymond tenía 23 años, es decir, cuando Samantha tenía 23 − 6 = 17 años. Como Samantha tiene ahora 31 años, el hijo nació hace 31 − 17 = 14 años.", "worked solution es", check=R)
post("g14-ru", "\n\nПусть у неё было x пылесосов. После зелёного дома осталось 2x/3, после красного 2x/3 − 2, после оранжевого половина: (2x/3 − 2)/2 = 5, откуда 2x/3 = 12 и x = 18.", "worked solution ru", check=R)
# The translation followed by the original (the model echoed its input): originals are filled in by the reader.
for key in ["g13-fr", "g18-de", "g6-es", "g17-it", "g11-ru", "g4-zh"]:
    plant(key, A, "translation followed by the English original", text=F[key][2] + "\n\n{original}")

W = "wrong_language"
for key, lang, what in [("g3-fr", "de", "French for de"), ("g12-fr", "es", "French for es"), ("g1-de", "fr", "German for fr"),
                        ("g4-zh", "ru", "Chinese for ru"), ("g15-it", "es", "Italian for es"), ("g6-es", "it", "Spanish for it"),
                        ("g16-de", "it", "German for it"), ("g5-ru", "de", "Russian for de")]:
    plant(key, W, what, text=F[key][2], lang=lang)
for key, lang in [("g11-ru", "de"), ("g22-es", "it"), ("g10-es", "fr"), ("g17-it", "ru")]:
    plant(key, W, f"the English original for {lang}", text="{original}", lang=lang)

with open(sys.argv[1], "w") as fo:
    for r in out:
        fo.write(json.dumps(r, ensure_ascii=False) + "\n")
from collections import Counter
print(Counter(r.get("check", "faithful") for r in out))
