"""Regenerate pin_grid/data/french_passwords.txt, the French list the password policy checks.

The file is shipped with the app; this script is needed only to change it. It writes, most
common first and one a line:

1. a hand-written head of passwords common in France and Québec (below, in rough order of
   frequency: password dumps put `123456`, `azerty`, `motdepasse`, pet names and sports teams
   at the top), then
2. the most frequent French words, from the `wordfreq` package (wordfreq is needed only to
   regenerate the file, never by the app, and is not in the lock files).

Run it from the repository's root with a throwaway environment:

    python3 -m venv /tmp/wordfreq-venv
    /tmp/wordfreq-venv/bin/pip install wordfreq==3.1.1
    /tmp/wordfreq-venv/bin/python scripts/build_french_passwords.py            # 30,000 words
    /tmp/wordfreq-venv/bin/python scripts/build_french_passwords.py --words 20000

The output is deterministic for a given wordfreq version. Words are written lowercase, with
their accents; the app adds the accent-stripped form of each when it loads the list.
"""
from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "pin_grid" / "data" / "french_passwords.txt"

# Most common first. Keyboard rows (azerty…), pet names, love words, teams, cities, swear words
# from Québec, first names and common family names, then ordinary words people pick.
HEAD = """
motdepasse azerty azerty123 azertyuiop 123azerty azerty1 azerty12 azerty1234 loulou doudou
soleil chouchou coucou marseille jetaime bonjour nicolas motdepasse1 motdepasse123 mdp
quebec québec montreal montréal canadiens nordiques hockey poutine tabarnak tabarnac
doudou1 loulou1 soleil1 bonjour1 jetaime1 jetaime2 marseille13 olympique om psg
allezlesbleus lesbleus allezparis allezlom parisienne paris france lyon lille toulouse nice
nantes bordeaux strasbourg montpellier rennes bretagne normandie corse provence alsace
chocolat princesse papillon doudoune nounours titou choupette cherie chéri mamour moncoeur
moncœur bebe bébé minou minette pitou chaton toutou bisou bisous calin câlin amour amoureux
amoureuse lamour monamour tendresse bonheur liberte liberté famille maison vacances
bienvenue bienvenu salut bonsoir merci coucou1 salut123 soleil123 loulou123 doudou123
marseille1 canadiens1 gohabsgo habs glorieux lesglorieux lescanadiens nordiques1 expos
alouettes impact cfmontreal remparts rocket lavallee sainthyacinthe
sherbrooke gatineau laval longueuil levis lévis saguenay chicoutimi rimouski troisrivieres
beauce lacsaintjean gaspesie gaspésie abitibi laurentides outaouais estrie mauricie
charlevoix tadoussac quebecois québécois quebecoise québécoise canadien canadienne canada
jemesouviens fleurdelys fleurdelise fleurdelisé caribou castor orignal huard erable érable
sirop siropderable cabaneasucre cabane sucre tourtiere tourtière cretons pâté pate
tabarnouche calisse câlisse caliss ostie osti esti criss crisse sacrament sacrement ciboire
viarge maudit maudite tabarslak calvaire batinse torieu mautadit bonyeu
patate patates frites hotdog steamé dépanneur depanneur chum blonde char tuque mitaines
neige tempete tempête verglas patinoire patin ski glissade raquette motoneige
admin administrateur utilisateur secret confidentiel changeme changezmoi nouveau
nouveaumotdepasse motdepasseoublie temporaire defaut pardefaut connexion acces accès
essai test1234 bonjour123 azertyu azertyui azertyuio qsdfghjklm qsdfghjkl qsdfgh wxcvbn
azertyuiopqsdfghjklm aqwzsxedc azqswx azsxdc wxcvbnqsdf poiuytreza mlkjhgfdsq nbvcxw
1azerty azerty2024 azerty2023 azerty2025 azerty01 azerty00 azertyqwerty qwertyazerty
nicolas1 julien thomas camille marine sophie julie isabelle nathalie stephanie stéphanie
caroline aurelie aurélie celine céline laurent sebastien sébastien olivier alexandre antoine
maxime mathieu guillaume francois françois christophe pierre jeanne marie louise emma lea
léa chloe chloé manon clement clément lucas hugo theo théo enzo louis gabriel raphael
raphaël arthur jules nathan mathis benjamin vincent romain jeremy jérémy kevin anthony david
florian quentin damien fabien frederic frédéric jerome jérôme stephane stéphane philippe
patrick sylvie veronique véronique valerie valérie sandrine christine catherine martine
monique chantal francine ginette diane johanne genevieve geneviève melanie mélanie josee
josée mario sylvain daniel michel jean andre andré claude gilles serge guy rejean réjean
real réal denis yves luc marc alain normand gaetan gaëtan ghislain richard robert roger
raymond gerard gérard jacques rene rené bernard lucie helene hélène elodie élodie audrey
emilie émilie justine pauline charlotte alice juliette ines inès jade louna mael maël noah
adam timothe timothée samuel william felix félix olivia florence rosalie jacob zoe zoé
tremblay gagnon roy cote côté bouchard gauthier morin lavoie fortin gagne gagné ouellet
pelletier belanger bélanger levesque lévesque bergeron leblanc paquette girard simard
boucher caron beaulieu cloutier dube dubé poirier fournier lapointe leclerc lefebvre poulin
thibault nadeau martin landry martel bedard bédard grenier lessard bernier michaud hebert
hébert desjardins couture turcotte lachance parent blais gosselin savard proulx beaudoin
demers perreault boudreau lemieux cyr perron dufour dion mercier bolduc berube bérubé
boisvert langlois menard ménard therrien plante bilodeau paradis fontaine dubois durand
moreau laurent simon michel lefevre leroy roux david bertrand morel fournier girard
dragon tigre lion chat chien cheval poisson dauphin loup renard lapin ours panda licorne
etoile étoile lune fleur rose tulipe marguerite lavande violette jasmin cerise fraise
framboise pomme banane orange citron vanille caramel bonbon gateau gâteau crepe crêpe
fromage baguette croissant champagne vin biere bière cafe café the thé
football foot rugby tennis basket velo vélo peche pêche chasse musique guitare piano danse
printemps ete été automne hiver janvier fevrier février mars avril mai juin juillet aout
août septembre octobre novembre decembre décembre lundi mardi mercredi jeudi vendredi
samedi dimanche noel noël paques pâques halloween anniversaire
soleil2024 soleil2023 printemps2024 printemps2023 printemps2025 ete2024 hiver2024
automne2024 bonjour2024 bonjour2023 motdepasse2024 motdepasse2023 motdepasse2025
jesus jésus dieu ange angel diable enfer paradis ciel
toto titi tata tutu lolo lili lulu nini nono bibi coco kiki zizou zidane mbappe mbappé
platini griezmann lafleur richard beliveau béliveau roy price lemieux bossy dionne
celinedion céline garou ginette cowboysfringants cowboys
nintendo pokemon pokémon naruto mario zelda minecraft fortnite batman superman spiderman
starwars harrypotter
""".split()


def french_words(limit: int) -> list[str]:
    from wordfreq import top_n_list  # only here: the app never needs wordfreq

    words = []
    for word in top_n_list("fr", limit * 3):
        word = word.lower()
        if len(word) >= 2 and word.isalpha():
            words.append(word)
        if len(words) == limit:
            break
    return words


def build(limit: int) -> list[str]:
    seen, entries = set(), []
    for word in [*(w.lower() for w in HEAD), *french_words(limit)]:
        if word not in seen:
            seen.add(word)
            entries.append(word)
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=30_000, help="how many frequent French words (default 30,000)")
    parser.add_argument("--output", type=Path, default=TARGET)
    args = parser.parse_args()
    entries = build(args.words)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(entries) + "\n", encoding="utf-8")
    print(f"{len(entries)} entries, {args.output.stat().st_size // 1024} KiB -> {args.output}")


if __name__ == "__main__":
    main()
