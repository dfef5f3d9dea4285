// The console's small scripts: the light or dark theme (remembered in a cookie the server also reads, so the page
// arrives in the right colours) and countdowns to a time ([data-until] in epoch milliseconds).
var consoleTheme = {
    toggle: function () {
        var root = document.documentElement;
        var dark = !root.classList.contains('theme-dark');
        root.classList.toggle('theme-dark', dark);
        root.classList.toggle('theme-light', !dark);
        document.cookie = 'console-theme=' + (dark ? 'dark' : 'light') + '; path=/console; max-age=31536000; SameSite=Lax';
    }
};

setInterval(function () {
    document.querySelectorAll('[data-until]').forEach(function (el) {
        var left = Math.max(0, Math.round((Number(el.getAttribute('data-until')) - Date.now()) / 1000));
        var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
        el.textContent = left === 0 ? 'now' : (h ? h + ' h ' : '') + (h || m ? m + ' min ' : '') + s + ' s';
    });
}, 1000);

// The conversation on a task's page stays at its end while new output arrives, unless the reader scrolled up.
var consoleConversation = {
    atEnd: true,
    stick: function () {
        var c = document.getElementById('conversation');
        if (c && consoleConversation.atEnd) {
            c.scrollTop = c.scrollHeight;
        }
    }
};
document.addEventListener('scroll', function (e) {
    if (e.target && e.target.id === 'conversation') {
        consoleConversation.atEnd = e.target.scrollTop + e.target.clientHeight >= e.target.scrollHeight - 20;
    }
}, true);
