/*
 * The wsflv streams page: polls /api/streams every 2 s, lists what is live, plays the stream picked
 * with mpegts.js (low-latency live settings), and shows how to play and publish. No framework, no build.
 */
(function () {
  'use strict';

  var POLL_MS = 2000;
  var RETRY_MS = 3000;
  var TOKEN_KEY = 'wsflv.apiToken';

  /** Live, low-latency mpegts.js settings: no stash buffer, no lazy loading, chase the live edge. */
  var PLAYER_CONFIG = {
    enableWorker: false,
    enableStashBuffer: false,
    stashInitialSize: 128 * 1024,
    isLive: true,
    lazyLoad: false,
    deferLoadAfterSourceOpen: false,
    autoCleanupSourceBuffer: true,
    liveBufferLatencyChasing: true,
    liveBufferLatencyMaxLatency: 1.5,
    liveBufferLatencyMinRemain: 0.3,
  };

  var $ = function (id) { return document.getElementById(id); };
  var video = $('video');
  var listEl = $('stream-list');
  var items = new Map(); // key -> { li, parts }

  var state = {
    streams: [],
    health: null,
    selected: null,
    transport: sessionStorage.getItem('wsflv.transport') === 'http' ? 'http' : 'ws',
    player: null,
    playingKey: null,
    retryTimer: null,
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    lastOk: 0,
  };
  window.wsflvPage = state; // for the curious, and for tests

  // ---------- formatting ----------

  var CODEC_NAMES = {
    avc: 'H.264', hevc: 'H.265', av1: 'AV1', vp9: 'VP9', vp8: 'VP8', h263: 'H.263', vp6: 'VP6', vp6a: 'VP6A',
    aac: 'AAC', mp3: 'MP3', 'mp3-8k': 'MP3', opus: 'Opus', flac: 'FLAC', ac3: 'AC-3', eac3: 'E-AC-3',
    pcm: 'PCM', 'pcm-le': 'PCM', adpcm: 'ADPCM', nellymoser: 'Nellymoser', g711a: 'G.711 A-law', g711u: 'G.711 µ-law', speex: 'Speex',
  };

  function codecName(codec) { return CODEC_NAMES[codec] || String(codec || '?').toUpperCase(); }

  function describeVideo(v) {
    if (!v) return '';
    var parts = [codecName(v.codec)];
    if (v.profile) parts[0] += ' ' + v.profile;
    if (v.width && v.height) parts.push(v.width + '×' + v.height);
    if (v.frameRate) parts.push(Math.round(v.frameRate * 100) / 100 + ' fps');
    return parts.join(' · ');
  }

  function describeAudio(a) {
    if (!a) return '';
    var parts = [codecName(a.codec)];
    if (a.profile && a.codec === 'aac') parts[0] += ' ' + a.profile;
    if (a.sampleRate) parts.push((a.sampleRate / 1000).toFixed(a.sampleRate % 1000 ? 1 : 0) + ' kHz');
    if (a.channels) parts.push(a.channels === 1 ? 'mono' : a.channels === 2 ? 'stereo' : a.channels + ' ch');
    return parts.join(' · ');
  }

  function bitrate(bps) {
    if (!bps) return '0 kb/s';
    if (bps >= 1e6) return (bps / 1e6).toFixed(bps >= 1e7 ? 0 : 1) + ' Mb/s';
    return Math.round(bps / 1000) + ' kb/s';
  }

  function duration(ms) {
    if (ms == null) return '–';
    var s = Math.floor(ms / 1000);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    var mm = h ? String(m).padStart(2, '0') : String(m);
    return (h ? h + ':' : '') + mm + ':' + String(sec).padStart(2, '0');
  }

  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  // ---------- URLs and commands ----------

  function wsBase() { return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host; }
  function httpBase() { return location.protocol + '//' + location.host; }
  function playUrl(key, transport) { return (transport === 'http' ? httpBase() : wsBase()) + '/' + key + '.flv'; }

  function updateCommands() {
    var key = $('publish-key').value.trim();
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(key)) key = 'live/cam1';
    var http = httpBase() + '/' + key + '.flv';
    var ws = wsBase() + '/' + key + '.flv';
    // One line each (wrapped on screen only), so a copy pastes into any shell.
    $('cmd-file').textContent = 'ffmpeg -re -i input.mp4 -c:v libx264 -preset veryfast -tune zerolatency -g 60 -c:a aac -f flv ' + http;
    $('cmd-test').textContent =
      'ffmpeg -re -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 ' +
      '-c:v libx264 -preset veryfast -tune zerolatency -g 60 -pix_fmt yuv420p -c:a aac -f flv ' + http;
    $('cmd-wsflv').textContent = 'npx wsflv publish input.flv ' + ws + ' --loop';
    var rtmp = state.health && state.health.rtmp;
    $('rtmp-block').hidden = !rtmp;
    if (!rtmp) return;
    var app = key.split('/')[0];
    var stream = key.split('/')[1];
    var server = (rtmp.tls ? 'rtmps://' : 'rtmp://') + location.hostname + ':' + rtmp.port + '/' + app;
    var signed = state.health.signedPublish && (state.health.signedPublish.apps.indexOf(app) >= 0 || state.health.signedPublish['default']);
    $('cmd-rtmp').textContent = 'ffmpeg -re -i input.mp4 -c:v libx264 -preset veryfast -tune zerolatency -g 60 -c:a aac -f flv ' + server + '/' + stream;
    $('obs-server').textContent = server;
    $('obs-key').textContent = signed ? stream + '?expires=…&sign=…' : stream;
    $('obs-sign').hidden = !signed;
    $('cmd-sign').textContent = 'npx wsflv sign ' + server + '/' + stream + ' --secret "$PUBLISH_SECRET" --expires 24h';
  }

  /** Once: whether RTMP is on (and its port) and which apps need signed publish URLs. */
  function loadHealth() {
    api('/api/health')
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (health) {
        state.health = health;
        updateCommands();
      }, function () {});
  }

  // ---------- API ----------

  function api(path, options) {
    options = options || {};
    var headers = {};
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    return fetch(path, { method: options.method || 'GET', headers: headers, cache: 'no-store' });
  }

  function setStatus(kind, text) {
    $('status').dataset.state = kind;
    $('status-text').textContent = text;
  }

  var polling = false;
  function poll() {
    if (polling) return;
    polling = true;
    api('/api/streams')
      .then(function (res) {
        if (res.status === 401) {
          setStatus('error', 'API token needed');
          askToken();
          return null;
        }
        if (res.status === 404) {
          setStatus('error', 'the API is off (server.api)');
          return null;
        }
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (body) {
        if (!body) return;
        state.lastOk = Date.now();
        setStatus('ok', 'live · updated every 2 s');
        render(body.streams || []);
      })
      .catch(function () {
        setStatus('error', 'server unreachable, retrying');
      })
      .then(function () {
        polling = false;
      });
  }

  function askToken() {
    var dialog = $('token-dialog');
    if (dialog.open) return;
    $('token-input').value = '';
    if (typeof dialog.showModal === 'function') dialog.showModal();
  }

  $('token-form').addEventListener('submit', function (event) {
    event.preventDefault();
    state.token = $('token-input').value.trim();
    sessionStorage.setItem(TOKEN_KEY, state.token);
    $('token-dialog').close();
    poll();
  });

  // ---------- the list ----------

  function render(streams) {
    state.streams = streams;
    $('stream-count').textContent = String(streams.length);
    $('stream-empty').hidden = streams.length > 0;
    var seen = new Set();
    streams.forEach(function (stream, index) {
      seen.add(stream.key);
      var item = items.get(stream.key) || createItem(stream.key);
      updateItem(item, stream);
      if (listEl.children[index] !== item.li) listEl.insertBefore(item.li, listEl.children[index] || null);
    });
    items.forEach(function (item, key) {
      if (!seen.has(key)) {
        item.li.remove();
        if (item.thumb.src.indexOf('blob:') === 0) URL.revokeObjectURL(item.thumb.src);
        items.delete(key);
      }
    });
    syncSelection();
  }

  function createItem(key) {
    var li = el('li');
    var button = el('button', 'stream');
    button.type = 'button';
    button.dataset.key = key;
    var top = el('span', 'stream-top');
    var badge = el('span', 'badge', 'LIVE');
    var name = el('span', 'stream-name');
    var slash = key.indexOf('/');
    name.appendChild(el('span', 'stream-app', key.slice(0, slash + 1)));
    name.appendChild(el('span', 'stream-key', key.slice(slash + 1)));
    var uptime = el('span', 'stream-uptime');
    top.append(badge, name, uptime);
    var tracks = el('span', 'stream-tracks');
    var meta = el('span', 'stream-meta');
    var rateIn = el('span', 'meta meta-in');
    var rateOut = el('span', 'meta meta-out');
    var players = el('span', 'meta meta-players');
    meta.append(rateIn, rateOut, players);
    var thumb = el('img', 'thumb');
    thumb.alt = 'latest keyframe of ' + key;
    thumb.hidden = true;
    button.append(thumb, top, tracks, meta);
    button.addEventListener('click', function () { select(key, true); });
    li.appendChild(button);
    var item = { li: li, button: button, badge: badge, uptime: uptime, tracks: tracks, rateIn: rateIn, rateOut: rateOut, players: players, thumb: thumb, thumbAt: null };
    items.set(key, item);
    return item;
  }

  function updateItem(item, s) {
    var grace = s.state === 'grace';
    item.badge.textContent = grace ? 'WAITING' : 'LIVE';
    item.badge.className = 'badge' + (grace ? ' badge-grace' : '');
    item.uptime.textContent = grace ? 'publisher gone' : duration(s.uptimeMs);
    item.uptime.title = (s.publisher ? 'published over ' + s.publisher.transport + ' from ' + (s.publisher.address || '?') : '') + (s.node && s.node !== 'local' ? ' on node ' + s.node : '');
    item.tracks.replaceChildren();
    if (s.video) item.tracks.appendChild(el('span', 'chip chip-video', describeVideo(s.video)));
    if (s.audio) item.tracks.appendChild(el('span', 'chip chip-audio', describeAudio(s.audio)));
    if (!s.video && !s.audio) item.tracks.appendChild(el('span', 'chip', 'waiting for tracks'));
    item.rateIn.textContent = bitrate(s.bitrate.in) + ' in';
    item.rateIn.title = 'from the publisher, last 5 s';
    item.rateOut.textContent = bitrate(s.bitrate.out) + ' out';
    item.rateOut.title = 'to every player, last 5 s';
    var players = s.playerCount + s.waitingCount;
    item.players.textContent = plural(players, 'player');
    item.button.setAttribute('aria-current', s.key === state.selected ? 'true' : 'false');
    updateThumb(item, s.snapshot);
  }

  // The snapshot comes through the API (which may want the token), so it is fetched, not linked.
  function updateThumb(item, snapshot) {
    if (!snapshot) {
      item.thumb.hidden = true;
      item.thumbAt = null;
      return;
    }
    if (snapshot.takenAt === item.thumbAt) return;
    item.thumbAt = snapshot.takenAt;
    api(snapshot.url)
      .then(function (res) { return res.ok ? res.blob() : null; })
      .then(function (blob) {
        if (!blob) return;
        var old = item.thumb.src;
        item.thumb.src = URL.createObjectURL(blob);
        item.thumb.hidden = false;
        if (old && old.indexOf('blob:') === 0) URL.revokeObjectURL(old);
      }, function () {});
  }

  // ---------- selection and playback ----------

  function findStream(key) {
    for (var i = 0; i < state.streams.length; i++) if (state.streams[i].key === key) return state.streams[i];
    return null;
  }

  function select(key, userAction) {
    state.selected = key;
    if (userAction && location.hash !== '#' + key) history.replaceState(null, '', '#' + key);
    items.forEach(function (item, k) { item.button.setAttribute('aria-current', k === key ? 'true' : 'false'); });
    stopPlayer();
    syncSelection();
    if (userAction && window.matchMedia('(max-width: 760px)').matches) {
      document.querySelector('.stage').scrollIntoView({ behavior: 'smooth', block: 'start' });
    }
  }

  /** Keep the player panel in step with the selected stream: start, restart, or report it gone. */
  function syncSelection() {
    var key = state.selected;
    var stream = key ? findStream(key) : null;
    $('now-name').textContent = key || 'No stream selected';
    $('now-badge').hidden = !stream;
    $('now-urls').hidden = !key;
    if (key) {
      $('url-ws').textContent = playUrl(key, 'ws');
      $('url-http').textContent = playUrl(key, 'http');
    }
    $('stat-video').textContent = stream && stream.video ? describeVideo(stream.video) : '–';
    $('stat-audio').textContent = stream && stream.audio ? describeAudio(stream.audio) : '–';
    if (!key) return message('Pick a live stream to play it here');
    if (!stream) {
      if (state.player) stopPlayer();
      return message('The stream ' + key + ' is not live. It plays again as soon as it is back.');
    }
    if (!state.player && !state.retryTimer) play(key);
  }

  function play(key) {
    if (!window.mpegts || !mpegts.isSupported()) {
      return message('This browser cannot play live FLV (no Media Source Extensions). Use the URLs below in VLC or ffplay.');
    }
    stopPlayer();
    message('Connecting to ' + key + '…', 'busy');
    var player = mpegts.createPlayer({ type: 'flv', isLive: true, url: playUrl(key, state.transport) }, PLAYER_CONFIG);
    state.player = player;
    state.playingKey = key;
    player.on(mpegts.Events.ERROR, function (type, detail) {
      if (state.player !== player) return;
      stopPlayer();
      message('Playback stopped (' + detail + '). Retrying…', 'busy');
      retryLater();
    });
    player.on(mpegts.Events.LOADING_COMPLETE, function () {
      if (state.player !== player) return;
      // The server ended the stream (or the publisher left and did not return).
      stopPlayer();
      retryLater();
    });
    player.attachMediaElement(video);
    player.load();
    var started = player.play();
    if (started && started.catch) started.catch(function () { /* muted autoplay is allowed; a refusal shows the controls */ });
  }

  function retryLater() {
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(function () {
      state.retryTimer = null;
      syncSelection();
    }, RETRY_MS);
  }

  function stopPlayer() {
    clearTimeout(state.retryTimer);
    state.retryTimer = null;
    var player = state.player;
    state.player = null;
    state.playingKey = null;
    if (!player) return;
    try { player.pause(); } catch (e) { /* already torn down */ }
    try { player.unload(); } catch (e) { /* idem */ }
    try { player.detachMediaElement(); } catch (e) { /* idem */ }
    try { player.destroy(); } catch (e) { /* idem */ }
    $('stat-latency').textContent = '–';
    $('stat-dropped').textContent = '–';
  }

  function message(text, kind) {
    var box = $('screen-message');
    box.hidden = false;
    box.dataset.kind = kind || 'idle';
    $('screen-text').textContent = text;
  }

  video.addEventListener('playing', function () { $('screen-message').hidden = true; });

  // Playback figures, twice a second while playing.
  setInterval(function () {
    if (!state.player || video.readyState < 2) return;
    var b = video.buffered;
    var latency = b.length ? Math.max(0, b.end(b.length - 1) - video.currentTime) : 0;
    $('stat-latency').textContent = latency.toFixed(2) + ' s buffered';
    var q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
    $('stat-dropped').textContent = q ? q.droppedVideoFrames + ' of ' + q.totalVideoFrames + ' frames' : '–';
    if (video.videoWidth) {
      var stream = findStream(state.playingKey);
      var decoded = video.videoWidth + '×' + video.videoHeight;
      $('stat-video').textContent = stream && stream.video ? describeVideo(stream.video) : decoded;
    }
  }, 500);

  // ---------- controls ----------

  document.querySelectorAll('[data-transport]').forEach(function (button) {
    button.setAttribute('aria-pressed', String(button.dataset.transport === state.transport));
    button.addEventListener('click', function () {
      state.transport = button.dataset.transport;
      sessionStorage.setItem('wsflv.transport', state.transport);
      document.querySelectorAll('[data-transport]').forEach(function (b) {
        b.setAttribute('aria-pressed', String(b === button));
      });
      if (state.selected) {
        stopPlayer();
        syncSelection();
      }
    });
  });

  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('button[data-copy]');
    if (!button) return;
    var text = $(button.dataset.copy).textContent;
    copy(text).then(
      function () { flash(button, 'Copied'); },
      function () { flash(button, 'Select & copy'); },
    );
  });

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain http on a LAN address is no secure context: the old way still works there.
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      area.remove();
      if (ok) resolve(); else reject(new Error('copy refused'));
    });
  }

  function flash(button, text) {
    var original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = text;
    button.classList.add('copied');
    setTimeout(function () {
      button.textContent = original;
      button.classList.remove('copied');
    }, 1400);
  }

  $('publish-key').addEventListener('input', updateCommands);

  window.addEventListener('hashchange', function () {
    var key = decodeURIComponent(location.hash.slice(1));
    if (key && key !== state.selected) select(key, false);
  });

  // ---------- start ----------

  updateCommands();
  loadHealth();
  var initial = decodeURIComponent(location.hash.slice(1));
  if (/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(initial)) state.selected = initial;
  syncSelection();
  poll();
  setInterval(poll, POLL_MS);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });
})();
