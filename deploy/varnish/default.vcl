# Varnish in front of newsportal (docs/DEPLOY.md, "Varnish in front").
#
# Debian's varnish 7 with varnish-modules (the xkey vmod). Varnish keeps the
# anonymous readers' pages; the app purges them by content key when it writes
# (articles.purges: PURGE requests carrying an `xkey` header, sent to each
# address in NEWSPORTAL_PURGE_URLS). Every other request goes to the app as is.
#
# tests/integration/test_varnish.py runs this file as it is, with only the
# backend's port (8000 below) replaced.

vcl 4.1;

import std;
import xkey;

backend default {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 5s;
    .first_byte_timeout = 120s;   # gunicorn's timeout (an admin upload) decides, not Varnish
    .between_bytes_timeout = 60s;
}

# Who may purge: the app servers. Add their addresses here (loopback only by default).
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey && req.http.xkey-purge) {
            set req.http.xkey = req.http.xkey-purge;
        }
        if (!req.http.xkey) {
            return (synth(400, "A PURGE needs an xkey header"));
        }
        if (req.http.xkey == "*") {
            # A write nobody described: everything may be stale.
            ban("obj.status != 0");
            return (synth(200, "Banned everything"));
        }
        set req.http.X-Purged = xkey.purge(req.http.xkey);
        return (synth(200, "Purged " + req.http.X-Purged));
    }
    if (req.method !~ "^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$") {
        return (synth(405, "Method Not Allowed"));
    }
    # Writes (forms, the API's POST/PUT/PATCH/DELETE) and everything but GET/HEAD: to the app.
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # The admin, previews of drafts and the language switch are never shared.
    if (req.url ~ "^/(admin|preview|i18n)(/|$)") {
        return (pass);
    }
    if (req.http.Authorization) {
        return (pass);
    }
    # A session (staff), a CSRF token (a form was shown) or a chosen language: the app answers.
    # Django's default cookie names; change them here if settings rename them.
    if (req.http.Cookie ~ "(^|;\s*)(sessionid|csrftoken|django_language)=") {
        return (pass);
    }
    # Any other cookie (analytics) means nothing to the app's public pages.
    unset req.http.Cookie;
    call newsportal_language;
    return (hash);
}

# The app's pages vary on Accept-Language, so Varnish keeps one copy per distinct
# header value (browsers send hundreds). Replace the header by the language the
# app would answer in, one of the languages the site serves: settings.LANGUAGES,
# zh-hans (LANGUAGE_CODE, the default) and en. Keep the two lists the same.
# As Django's LocaleMiddleware: a variant counts as its language (zh-CN, zh-TW,
# zh-Hant-HK, zh are zh-hans, the only Chinese served; en-US, en-GB are en), a
# language refused with q=0 does not count, the higher q wins (none is 1), the
# one listed first on a tie, and the default when none is served.
sub newsportal_language {
    set req.http.X-Languages = "," + regsuball(req.http.Accept-Language, "\s", "") + ",";
    set req.http.X-Languages = regsuball(req.http.X-Languages, "(?i),zh(-[a-z0-9]+)*(?=[;,])", ",zh-hans");
    set req.http.X-Languages = regsuball(req.http.X-Languages, "(?i),en(-[a-z0-9]+)*(?=[;,])", ",en");
    set req.http.X-Languages = regsuball(req.http.X-Languages, ",[^,]*;q=0(\.0*)?(?=,)", "");
    if (req.http.X-Languages !~ ",en[;,]") {
        set req.http.Accept-Language = "zh-hans";
    } elsif (req.http.X-Languages !~ ",zh-hans[;,]") {
        set req.http.Accept-Language = "en";
    } else {
        set req.http.X-Q-Zh = regsub(req.http.X-Languages, "^.*?,zh-hans(;q=([0-9.]+))?[;,].*$", "\2");
        set req.http.X-Q-En = regsub(req.http.X-Languages, "^.*?,en(;q=([0-9.]+))?[;,].*$", "\2");
        if (std.real(req.http.X-Q-En, 1.0) > std.real(req.http.X-Q-Zh, 1.0)
                || (std.real(req.http.X-Q-En, 1.0) == std.real(req.http.X-Q-Zh, 1.0)
                    && regsub(req.http.X-Languages, "^.*?,(zh-hans|en)[;,].*$", "\1") == "en")) {
            set req.http.Accept-Language = "en";
        } else {
            set req.http.Accept-Language = "zh-hans";
        }
        unset req.http.X-Q-Zh;
        unset req.http.X-Q-En;
    }
    unset req.http.X-Languages;
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        return (deliver);
    }
    # Honour the app: a response that sets a cookie, is private, no-store or
    # no-cache, or varies by cookie is not shared (remembered as such for 2 minutes).
    if (beresp.http.Set-Cookie
            || beresp.http.Cache-Control ~ "(?i)(private|no-store|no-cache)"
            || beresp.http.Vary ~ "(?i)cookie") {
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # A public page carrying its content keys: the app purges it when what it shows
    # changes, so Varnish keeps it although it tells browsers to revalidate
    # (max-age=0). The TTL only bounds what changes with no write: a scheduled
    # article's publication time passing, and the news sitemap's window.
    if (beresp.http.xkey && beresp.http.Cache-Control ~ "(?i)public") {
        set beresp.ttl = 60s;
        set beresp.grace = 0s;
        return (deliver);
    }
    # Anything else (static files: WhiteNoise's max-age) by its own Cache-Control.
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
