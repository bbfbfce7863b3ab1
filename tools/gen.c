/*
 * gen.c - the canonical roster data set (DESIGN.md, "The canonical data set").
 *
 * One line per player, TSV without a header:
 *     uid \t name \t stat \t level \t extras \n
 *
 * Every benchmark loads this data, so its bytes are a contract: the same n
 * and seed must give the same bytes on every machine.  Hence one private
 * xoshiro256** stream (seeded through splitmix64), drawn in a fixed order
 * per player (name, stat, level, extras), bounded draws by multiply-shift of
 * the top 32 bits, and integer arithmetic only: no rand(), locale, time or
 * floating point.  Making a name unique never consumes random numbers, so
 * player i's draws depend only on the seed and i, and the data set of n
 * players is a prefix of the data set of any larger n for the same seed.
 *
 * Distributions (calibrated against DESIGN.md at n = 1,000,000):
 *
 *   uid    the player number 1..n, zero-padded to 7 digits, wider past
 *          9,999,999.
 *   name   60% ASCII: a letter (52 choices) then 2..11 of [A-Za-z0-9_]
 *          (63 choices), length 3..12 weighted toward 9..12 (mean 9.0).
 *          40% Chinese: 2, 3 or 4 characters (5%, 82%, 13%: mean 9.2
 *          bytes), uniform over a table of 478 common name characters.
 *          The weights starve the small spaces (3-letter ASCII names,
 *          2-character Chinese names): ~0.17% of names collide at 1M.
 *          A collision gets the smallest numeric suffix 2, 3, ... that makes
 *          it unique; the base is cut (whole characters only) so the name
 *          stays within 12 bytes.  Overall mean ~9.1 bytes.
 *   stat   0 offline 15%, 1 online 70%, 2 in battle 10%, 3 away 5%.
 *   level  1 + min(a, b) with a, b uniform in 0..99: a linearly falling
 *          density, mean ~34, level 1 about 2%, level 100 0.01%.
 *   extras 10% of players; 1, 2 or 3 attributes (25%, 50%, 25%: mean 2),
 *          a uniform subset of {x, guild, vip} written in that order as
 *          key=value;key=value (so there are only 7 shapes):
 *            x      integer, uniform in 0..99999
 *            guild  one of 256 guilds, adjective + noun ("IronWolf"),
 *                   mean 7.4 letters, so records share values
 *            vip    1 + min(a, b) with a, b uniform in 0..9
 *          Each key appears in 2/3 of the players with extras.  Counting an
 *          integer as 8 bytes and a guild by its length that is ~1.56 bytes
 *          of data per player (~1.8 bytes of text).
 *
 * Uniqueness needs every name seen so far: an open-addressing set (linear
 * probing, sized once for n at load <= 2/3) whose 64-bit slots hold a
 * 24-bit hash tag and a 40-bit offset into one growing arena of
 * length-prefixed names.  No allocation per name; at n = 10,000,000 it
 * takes ~134 MB of slots and ~100 MB of arena, at 10^10 about 240 GB,
 * which is why the CLI asks rs_gen_bytes() before it starts.
 */

#include "gen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_BYTES 12
#define UID_WIDTH 7
#define OUTBUF_SIZE ((size_t)1 << 20)
#define LINE_MAX_BYTES 256 /* far above the longest line (~80 bytes) */
#define PROGRESS_EVERY 65536
#define SUFFIX_LIMIT 1000000000u /* 9 digits: a base always survives */

/* 478 common characters of Chinese names, surnames first.  The literal is
   u8 so that it is UTF-8 whatever the execution character set; every
   character is 3 bytes (U+4E00..U+9FFF).  Changing the table changes the
   data set (the golden checksum in tests/test_gen.c will say so). */
static const char cjk_chars[] = u8"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
                                u8"郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
                                u8"余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金"
                                u8"石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
                                u8"龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
                                u8"常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章"
                                u8"鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符"
                                u8"舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉"
                                u8"骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟"
                                u8"艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦"
                                u8"戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
                                u8"闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄"
                                u8"丛仲虞敖巩明佘池查麻苑迟邝伟芳娜秀英敏静"
                                u8"丽强磊军洋勇艳杰娟涛超霞平刚辉玲飞鹏红志"
                                u8"波宇浩鑫晨欣怡佳琪子涵梓轩思雨嘉博俊凯乐"
                                u8"天一诗颖瑶雪婷慧琳晓彤萱雅然睿哲宏毅建国"
                                u8"家丹凤峰斌鹤瑞祥福禄寿喜春秋冬梦云霄海泽"
                                u8"润清源豪威远航帆晴光亮淼森木桐梧楠枫松竹"
                                u8"菊莲荷芝蕾薇蓉芸菲萍莉娅娇媛婉嫣婕妍姝永"
                                u8"长久悦欢笑语言诚信义礼智仁德善良忠孝正直"
                                u8"勤俭朴素美聪捷灵巧新旭东南西北中山川河湖"
                                u8"溪泉玉珠宝琴瑟琦瑜璐璇珊瑾璟瑛琼心念想影"
                                u8"月星辰日晖曦昊昱晗晔暄晟晋恒坚柔顺泰雄才"
                                u8"贤真敢诺紫可馨若汐伦立达腾麟鸿雁燕鹰";

#define CJK_BYTES 3
#define CJK_COUNT ((uint32_t)((sizeof cjk_chars - 1) / CJK_BYTES))

_Static_assert((sizeof cjk_chars - 1) % CJK_BYTES == 0,
               "every table character must be 3 bytes of UTF-8");

/* First character of an ASCII name, then the rest. */
static const char ascii_first[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char ascii_rest[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";

/* Cumulative weights (out of 100) of ASCII name lengths 3..12.  Few short
   names because their space is small (52 * 63 * 63 = 206,388 names of 3
   letters) and collisions there would mean suffixes; the long tail gives
   the ~9 byte mean DESIGN.md calibrates to. */
static const uint8_t ascii_len_cum[10] = {2,  5,  10, 17, 26,
                                          38, 52, 68, 84, 100};

/* Guild names are adjective + noun: 256 guilds of 6 to 9 letters. */
static const char *const guild_adj[16] = {
    "Red",  "Dark", "Wild", "Sky",  "Ice",   "Gold",  "Iron",  "Jade",
    "Moon", "Sun",  "Fire", "Star", "Frost", "Storm", "Night", "Blue"};
static const char *const guild_noun[16] = {
    "Wolf", "Fox",  "Crow", "Oak", "Fang", "Hawk", "Rose", "Lion",
    "Bear", "Tide", "Owl",  "Elk", "Ash",  "Orc",  "Yak",  "Cat"};

/* ------------------------------------------------------------------ */
/* Random numbers: xoshiro256**, seeded by splitmix64 (both by Vigna). */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    /* splitmix64 never yields four zero words, the one bad xoshiro state. */
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in 0..bound-1 by multiply-shift of the top 32 bits (Lemire,
   without the rejection step: the bias is below bound / 2^32, far under
   anything a benchmark can see, and the draw count stays fixed). */
static uint32_t rng_below(struct rng *r, uint32_t bound)
{
    return (uint32_t)(((rng_next(r) >> 32) * bound) >> 32);
}

/* ------------------------------------------------------------------ */
/* The set of names seen so far. */

#define SLOT_OFF_BITS 40
#define SLOT_OFF_MASK ((UINT64_C(1) << SLOT_OFF_BITS) - 1)

/* A slot is 0 when empty, else (hash tag << 40) | (arena offset + 1).  The
   tag (the hash's top 24 bits, independent of the low bits that pick the
   slot) lets almost every probe past a foreign name skip the arena. */
struct nameset {
    uint64_t *slots;
    uint64_t mask;
    unsigned char *arena; /* entries: length byte, then the bytes */
    size_t used;
    size_t cap;
};

static uint64_t name_hash(const char *p, size_t len)
{
    /* FNV-1a, then a multiply-xorshift finish so the low bits (the slot
       index) depend on every byte. */
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= UINT64_C(0x100000001b3);
    }
    h ^= h >> 32;
    h *= UINT64_C(0xd6e8feb86659fd93);
    h ^= h >> 32;
    return h;
}

/* Slots of the name set for n names: exactly n names will be added, so
   the table is sized once for a load of at most 2/3 (no rehash, no pause in
   the middle of the output).  0 when n is beyond any machine. */
static uint64_t nameset_slots(uint64_t n)
{
    uint64_t want = n + n / 2 + 16;
    uint64_t cap = 16;

    if (n > UINT64_MAX / 16)
        return 0;
    while (cap < want)
        cap <<= 1;
    return cap;
}

/* Names average ~10 arena bytes with their length; the arena starts a
   little above that and grows if a seed runs long. */
static uint64_t nameset_arena(uint64_t n)
{
    return n * 11 + 64;
}

uint64_t rs_gen_bytes(uint64_t n)
{
    uint64_t cap = nameset_slots(n);

    if (cap == 0 || cap > UINT64_MAX / 16)
        return UINT64_MAX;
    return cap * sizeof(uint64_t) + nameset_arena(n) + OUTBUF_SIZE;
}

static int nameset_init(struct nameset *s, uint64_t n)
{
    uint64_t cap = nameset_slots(n);
    uint64_t arena;

    memset(s, 0, sizeof *s);
    if (cap == 0 || cap > SIZE_MAX / sizeof *s->slots) {
        errno = ENOMEM;
        return -1;
    }
    /* calloc: the kernel hands out zero pages lazily, so a small n on a
       big table costs nothing until probed. */
    s->slots = calloc((size_t)cap, sizeof *s->slots);
    if (s->slots == NULL) {
        errno = ENOMEM;
        return -1;
    }
    s->mask = cap - 1;

    arena = nameset_arena(n);
    if (arena > SIZE_MAX / 2)
        arena = SIZE_MAX / 2;
    s->arena = malloc((size_t)arena);
    if (s->arena == NULL) {
        free(s->slots);
        s->slots = NULL;
        errno = ENOMEM;
        return -1;
    }
    s->cap = (size_t)arena;
    return 0;
}

static void nameset_free(struct nameset *s)
{
    free(s->slots);
    free(s->arena);
    s->slots = NULL;
    s->arena = NULL;
}

/* Adds the name if absent.  Returns 1 if added, 0 if already present, -1
   when out of memory (errno set). */
static int nameset_add(struct nameset *s, const char *p, size_t len)
{
    uint64_t h = name_hash(p, len);
    uint64_t tag = h >> SLOT_OFF_BITS;
    uint64_t i = h & s->mask;
    uint64_t v;

    while ((v = s->slots[i]) != 0) {
        if ((v >> SLOT_OFF_BITS) == tag) {
            const unsigned char *q = s->arena + (v & SLOT_OFF_MASK) - 1;
            if (q[0] == len && memcmp(q + 1, p, len) == 0)
                return 0;
        }
        i = (i + 1) & s->mask;
    }

    if (s->cap - s->used < len + 1) {
        size_t ncap = s->cap + s->cap / 2 + 64;
        unsigned char *na;
        if (ncap < s->cap) {
            errno = ENOMEM;
            return -1;
        }
        na = realloc(s->arena, ncap);
        if (na == NULL) {
            errno = ENOMEM;
            return -1;
        }
        s->arena = na;
        s->cap = ncap;
    }
    if ((uint64_t)s->used >= SLOT_OFF_MASK) {
        errno = ENOMEM; /* a terabyte of names: beyond the slot format */
        return -1;
    }
    s->arena[s->used] = (unsigned char)len;
    memcpy(s->arena + s->used + 1, p, len);
    s->slots[i] = (tag << SLOT_OFF_BITS) | ((uint64_t)s->used + 1);
    s->used += len + 1;
    return 1;
}

/* ------------------------------------------------------------------ */
/* Players. */

struct gen {
    struct rng rng;
    struct nameset names;
    uint64_t suffixed; /* names that needed a numeric suffix */
};

/* Writes v in decimal with at least width digits, zero padded (width at
   most 20); returns the number of bytes written. */
static size_t put_u64(char *dst, uint64_t v, size_t width)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v != 0);
    while (n < width)
        tmp[n++] = '0';
    for (size_t i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    return n;
}

static size_t put_str(char *dst, const char *s)
{
    size_t n = strlen(s);
    memcpy(dst, s, n);
    return n;
}

/* Draws a base name (not yet unique) into buf.  Returns its length and
   sets *cjk when it is made of Chinese characters. */
static size_t draw_name(struct rng *r, char *buf, int *cjk)
{
    size_t len = 0;

    if (rng_below(r, 100) < 60) {
        uint32_t u = rng_below(r, 100);
        size_t want = 3;
        while (u >= ascii_len_cum[want - 3])
            want++;
        buf[len++] = ascii_first[rng_below(r, sizeof ascii_first - 1)];
        while (len < want)
            buf[len++] = ascii_rest[rng_below(r, sizeof ascii_rest - 1)];
        *cjk = 0;
    } else {
        /* Mostly 3 characters: 478^2 = 228,484 two-character names would
           collide often, 478^3 = 109 million three-character ones rarely. */
        uint32_t u = rng_below(r, 100);
        uint32_t chars = u < 5 ? 2 : u < 87 ? 3 : 4;
        for (uint32_t c = 0; c < chars; c++) {
            uint32_t k = rng_below(r, CJK_COUNT);
            memcpy(buf + len, cjk_chars + (size_t)k * CJK_BYTES, CJK_BYTES);
            len += CJK_BYTES;
        }
        *cjk = 1;
    }
    return len;
}

/* Makes the name in buf unique, adding it to the set: on a collision,
   appends the smallest suffix 2, 3, ... not yet taken, cutting the base
   (by whole characters, so UTF-8 stays valid) to stay within 12 bytes.
   Returns 0, or -1 with errno set. */
static int make_unique(struct gen *g, char *buf, size_t *len, int cjk)
{
    char base[NAME_MAX_BYTES];
    size_t blen = *len;
    int r = nameset_add(&g->names, buf, blen);

    if (r != 0)
        return r < 0 ? -1 : 0;
    g->suffixed++;
    memcpy(base, buf, blen);
    for (uint32_t k = 2; k < SUFFIX_LIMIT; k++) {
        char digits[10];
        size_t d = put_u64(digits, k, 1);
        size_t keep = blen;
        if (keep + d > NAME_MAX_BYTES) {
            keep = NAME_MAX_BYTES - d;
            if (cjk)
                keep -= keep % CJK_BYTES;
        }
        memcpy(buf, base, keep);
        memcpy(buf + keep, digits, d);
        r = nameset_add(&g->names, buf, keep + d);
        if (r < 0)
            return -1;
        if (r > 0) {
            *len = keep + d;
            return 0;
        }
    }
    errno = ERANGE; /* a billion players with one base name */
    return -1;
}

/* Writes the extras column (possibly empty); returns its length. */
static size_t put_extras(struct rng *r, char *dst)
{
    /* Which of x, guild, vip (bits 0, 1, 2) a player carries. */
    static const uint8_t one[3] = {1, 2, 4};
    static const uint8_t two[3] = {6, 5, 3};
    uint32_t u, keys;
    size_t n = 0;

    if (rng_below(r, 1000) >= 100)
        return 0;
    u = rng_below(r, 4);
    if (u == 0)
        keys = one[rng_below(r, 3)];
    else if (u < 3)
        keys = two[rng_below(r, 3)];
    else
        keys = 7;

    if (keys & 1) {
        n += put_str(dst + n, "x=");
        n += put_u64(dst + n, rng_below(r, 100000), 1);
    }
    if (keys & 2) {
        if (n > 0)
            dst[n++] = ';';
        n += put_str(dst + n, "guild=");
        n += put_str(dst + n, guild_adj[rng_below(r, 16)]);
        n += put_str(dst + n, guild_noun[rng_below(r, 16)]);
    }
    if (keys & 4) {
        uint32_t a = rng_below(r, 10), b = rng_below(r, 10);
        if (n > 0)
            dst[n++] = ';';
        n += put_str(dst + n, "vip=");
        n += put_u64(dst + n, 1 + (a < b ? a : b), 1);
    }
    return n;
}

/* Writes player uid's line at dst; returns its length, or 0 with errno set
   on failure. */
static size_t put_player(struct gen *g, char *dst, uint64_t uid)
{
    char name[NAME_MAX_BYTES];
    size_t nlen, n = 0;
    int cjk;
    uint32_t u, a, b, stat;

    nlen = draw_name(&g->rng, name, &cjk);
    if (make_unique(g, name, &nlen, cjk) != 0)
        return 0;

    u = rng_below(&g->rng, 100);
    stat = u < 15 ? 0 : u < 85 ? 1 : u < 95 ? 2 : 3;
    a = rng_below(&g->rng, 100);
    b = rng_below(&g->rng, 100);

    n += put_u64(dst + n, uid, UID_WIDTH);
    dst[n++] = '\t';
    memcpy(dst + n, name, nlen);
    n += nlen;
    dst[n++] = '\t';
    dst[n++] = (char)('0' + stat);
    dst[n++] = '\t';
    n += put_u64(dst + n, 1 + (a < b ? a : b), 1);
    dst[n++] = '\t';
    n += put_extras(&g->rng, dst + n);
    dst[n++] = '\n';
    return n;
}

static int write_all(FILE *out, const char *buf, size_t len)
{
    if (len == 0)
        return 0;
    errno = 0;
    if (fwrite(buf, 1, len, out) != len) {
        if (errno == 0)
            errno = EIO;
        return -1;
    }
    return 0;
}

/* rs_gen_write, plus the count of suffixed names for whoever wants to
   check that collisions stay rare (a throwaway driver including this
   file; the public interface has no use for it). */
static int gen_run(FILE *out, uint64_t n, uint64_t seed,
                   void (*progress)(uint64_t, uint64_t, void *), void *ctx,
                   uint64_t *suffixed)
{
    struct gen g;
    char *buf;
    size_t pos = 0;
    int rc = -1;

    buf = malloc(OUTBUF_SIZE);
    if (buf == NULL) {
        errno = ENOMEM;
        return -1;
    }
    if (nameset_init(&g.names, n) != 0) {
        free(buf);
        return -1;
    }
    rng_seed(&g.rng, seed);
    g.suffixed = 0;

    for (uint64_t uid = 1; uid <= n; uid++) {
        size_t len = put_player(&g, buf + pos, uid);
        if (len == 0)
            goto done;
        pos += len;
        if (pos > OUTBUF_SIZE - LINE_MAX_BYTES) {
            if (write_all(out, buf, pos) != 0)
                goto done;
            pos = 0;
        }
        if (progress != NULL && uid % PROGRESS_EVERY == 0 && uid < n)
            progress(uid, n, ctx);
    }
    if (write_all(out, buf, pos) != 0)
        goto done;
    errno = 0;
    if (fflush(out) != 0 || ferror(out)) {
        if (errno == 0)
            errno = EIO;
        goto done;
    }
    if (progress != NULL)
        progress(n, n, ctx);
    if (suffixed != NULL)
        *suffixed = g.suffixed;
    rc = 0;
done:
    nameset_free(&g.names);
    free(buf);
    return rc;
}

int rs_gen_write(FILE *out, uint64_t n, uint64_t seed,
                 void (*progress)(uint64_t done, uint64_t total, void *ctx),
                 void *ctx)
{
    return gen_run(out, n, seed, progress, ctx, NULL);
}
