"""Month names (and short weekday names) as Brazilian Portuguese writes them: in lower case ("6 de dezembro",
"dom").

Django's own pt_BR catalog capitalises them ("6 de Dezembro"). The project's catalog (``LOCALE_PATHS``) takes
precedence over Django's, so declaring the same message ids here (the contexts match ``django.utils.dates``)
puts them in ``atende/locale`` for ``makemessages`` to keep, translated in lower case; every ``date`` filter and
``date_format`` call then follows. Nothing imports this module: only the catalog needs it. The ``M`` format
title-cases in code, whatever the catalog says, so templates use ``N`` or the named formats instead. (Full
weekday names keep their capital: the catalog already has them as labels, "Segunda-feira" in a list of days.)"""

from django.utils.translation import gettext_noop, pgettext_lazy

WEEKDAYS_ABBR = [gettext_noop("Mon"), gettext_noop("Tue"), gettext_noop("Wed"), gettext_noop("Thu"),
                 gettext_noop("Fri"), gettext_noop("Sat"), gettext_noop("Sun")]
MONTHS = [gettext_noop("January"), gettext_noop("February"), gettext_noop("March"), gettext_noop("April"),
          gettext_noop("May"), gettext_noop("June"), gettext_noop("July"), gettext_noop("August"),
          gettext_noop("September"), gettext_noop("October"), gettext_noop("November"), gettext_noop("December")]
MONTHS_AP = [pgettext_lazy("abbrev. month", "Jan."), pgettext_lazy("abbrev. month", "Feb."),
             pgettext_lazy("abbrev. month", "March"), pgettext_lazy("abbrev. month", "April"),
             pgettext_lazy("abbrev. month", "May"), pgettext_lazy("abbrev. month", "June"),
             pgettext_lazy("abbrev. month", "July"), pgettext_lazy("abbrev. month", "Aug."),
             pgettext_lazy("abbrev. month", "Sept."), pgettext_lazy("abbrev. month", "Oct."),
             pgettext_lazy("abbrev. month", "Nov."), pgettext_lazy("abbrev. month", "Dec.")]
MONTHS_ALT = [pgettext_lazy("alt. month", "January"), pgettext_lazy("alt. month", "February"),
              pgettext_lazy("alt. month", "March"), pgettext_lazy("alt. month", "April"),
              pgettext_lazy("alt. month", "May"), pgettext_lazy("alt. month", "June"),
              pgettext_lazy("alt. month", "July"), pgettext_lazy("alt. month", "August"),
              pgettext_lazy("alt. month", "September"), pgettext_lazy("alt. month", "October"),
              pgettext_lazy("alt. month", "November"), pgettext_lazy("alt. month", "December")]
