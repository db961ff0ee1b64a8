package dev.portcullis.gateway.auth;

import dev.portcullis.gateway.testing.MutableClock;
import static dev.portcullis.gateway.auth.AuthConfigs.auth;
import static dev.portcullis.gateway.auth.TestTokens.NOW;
import static dev.portcullis.gateway.auth.TestTokens.accepted;
import static dev.portcullis.gateway.auth.TestTokens.claims;
import static dev.portcullis.gateway.auth.TestTokens.reason;
import static dev.portcullis.gateway.auth.TestTokens.sign;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import dev.portcullis.gateway.auth.TokenRejectedException.Reason;
import java.net.URI;
import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class JwtVerifierJwksTest {

    private static final Duration MIN_INTERVAL = Duration.ofSeconds(30);
    private static final Duration TTL = Duration.ofMinutes(10);
    private static final KeyPair K1 = TestTokens.rsa(2048);
    private static final KeyPair K2 = TestTokens.rsa(2048);

    private final MutableClock clock = new MutableClock(NOW);
    private final JwksServer server = new JwksServer();
    private final List<JwtVerifier> verifiers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        verifiers.forEach(JwtVerifier::close);
        server.close();
    }

    private JwtVerifier verifier(URI url, String... algorithms) {
        JwtVerifier verifier = JwtVerifier.create(
                auth(algorithms.length == 0 ? new String[] {"RS256"} : algorithms)
                        .jwks(url).jwksTiming(MIN_INTERVAL, TTL).build(), clock);
        verifiers.add(verifier);
        return verifier;
    }

    private static JWK rsaJwk(String kid, KeyPair keys) {
        return new RSAKey.Builder((RSAPublicKey) keys.getPublic()).keyID(kid).keyUse(KeyUse.SIGNATURE)
                .algorithm(JWSAlgorithm.RS256).build();
    }

    private static String rs256(String kid, KeyPair keys, String subject) {
        return sign("RS256", keys.getPrivate(), kid, claims(subject));
    }

    @Test
    void keysAreFetchedOnceAndCached() {
        server.serve(rsaJwk("k1", K1));
        JwtVerifier verifier = verifier(server.uri());

        for (int i = 0; i < 25; i++) {
            assertThat(accepted(verifier.verify(rs256("k1", K1, "user-" + i))).subject()).isEqualTo("user-" + i);
        }
        assertThat(server.requests()).isEqualTo(1);
        assertThat(verifier.verify(rs256("k1", K1, "alice"))).isCompleted();
    }

    @Test
    void verificationWaitingForKeysCompletesOnTheFetchThreadNotTheCaller() {
        server.serve(rsaJwk("k1", K1));
        server.hold();
        JwtVerifier verifier = verifier(server.uri());

        CompletableFuture<Principal> pending = verifier.verify(rs256("k1", K1, "alice"));
        CompletableFuture<String> completingThread = pending.thenApply(principal -> Thread.currentThread().getName());
        assertThat(pending).isNotDone();
        server.open();

        // Join the dependent first: a thread that joins `pending` itself may run its dependents.
        assertThat(completingThread.orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join()).isEqualTo("portcullis-jwks");
        assertThat(accepted(pending).subject()).isEqualTo("alice");
    }

    @Test
    void unknownKidTriggersARefreshOncePerMinInterval() {
        server.serve(rsaJwk("k1", K1));
        JwtVerifier verifier = verifier(server.uri());
        accepted(verifier.verify(rs256("k1", K1, "alice")));
        server.serve(rsaJwk("k1", K1), rsaJwk("k2", K2));

        assertThat(reason(verifier.verify(rs256("k2", K2, "bob")))).isEqualTo(Reason.UNKNOWN_KEY);
        assertThat(server.requests()).isEqualTo(1);

        clock.advance(MIN_INTERVAL);
        assertThat(accepted(verifier.verify(rs256("k2", K2, "bob"))).subject()).isEqualTo("bob");
        assertThat(server.requests()).isEqualTo(2);
    }

    @Test
    void clockSetBackDoesNotStallRefreshes() {
        server.serve(rsaJwk("k1", K1));
        JwtVerifier verifier = verifier(server.uri());
        accepted(verifier.verify(rs256("k1", K1, "alice")));
        server.serve(rsaJwk("k1", K1), rsaJwk("k2", K2));

        clock.set(NOW.minus(Duration.ofMinutes(30)));

        // Issued before the clock's new time: a token issued "in the future" would be refused (issued_in_future).
        var claims = claims("bob");
        claims.put("iat", NOW.minus(Duration.ofHours(1)).getEpochSecond());
        assertThat(accepted(verifier.verify(sign("RS256", K2.getPrivate(), "k2", claims))).subject()).isEqualTo("bob");
        assertThat(server.requests()).isEqualTo(2);
    }

    @Test
    void floodOfRandomKidsMakesABoundedNumberOfFetches() throws Exception {
        server.serve(rsaJwk("k1", K1));
        JwtVerifier verifier = verifier(server.uri());
        accepted(verifier.verify(rs256("k1", K1, "alice")));

        for (int i = 0; i < 200; i++) {
            assertThat(reason(verifier.verify(rs256(UUID.randomUUID().toString(), K1, "mallory"))))
                    .isEqualTo(Reason.UNKNOWN_KEY);
        }
        assertThat(server.requests()).isEqualTo(1);

        // Once the interval has passed, concurrent unknown kids share a single fetch.
        clock.advance(MIN_INTERVAL);
        server.hold();
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            List<Future<CompletableFuture<Principal>>> calls = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String token = rs256(UUID.randomUUID().toString(), K1, "mallory");
                calls.add(callers.submit(() -> verifier.verify(token)));
            }
            List<CompletableFuture<Principal>> verifications = new ArrayList<>();
            for (Future<CompletableFuture<Principal>> call : calls) {
                verifications.add(call.get(10, TimeUnit.SECONDS));
            }
            server.open();
            for (CompletableFuture<Principal> verification : verifications) {
                assertThat(reason(verification)).isEqualTo(Reason.UNKNOWN_KEY);
            }
        } finally {
            callers.shutdownNow();
        }
        assertThat(server.requests()).isEqualTo(2);
        assertThat(accepted(verifier.verify(rs256("k1", K1, "alice"))).subject()).isEqualTo("alice");
    }

    @Test
    void rotatedKeyIsPickedUpAndTheRetiredKeyDropped() {
        server.serve(rsaJwk("k1", K1));
        JwtVerifier verifier = verifier(server.uri());
        accepted(verifier.verify(rs256("k1", K1, "alice")));

        server.serve(rsaJwk("k2", K2));
        clock.advance(MIN_INTERVAL);

        assertThat(accepted(verifier.verify(rs256("k2", K2, "bob"))).subject()).isEqualTo("bob");
        assertThat(reason(verifier.verify(rs256("k1", K1, "alice")))).isEqualTo(Reason.UNKNOWN_KEY);
    }

    @Test
    void expiredCacheIsRefreshedInTheBackgroundWhileOldKeysServe() {
        server.serve(rsaJwk("k1", K1));
        JwtVerifier verifier = verifier(server.uri());
        accepted(verifier.verify(rs256("k1", K1, "alice")));

        clock.advance(TTL);
        CompletableFuture<Principal> verification = verifier.verify(rs256("k1", K1, "alice"));

        assertThat(verification).isCompleted();
        await().atMost(Duration.ofSeconds(10)).until(() -> server.requests() == 2);
    }

    @Test
    void unreachableEndpointWithoutCachedKeysMeansKeysUnavailable() {
        URI down = server.uri();
        server.close();
        JwtVerifier verifier = verifier(down);

        assertThat(reason(verifier.verify(rs256("k1", K1, "alice")))).isEqualTo(Reason.KEYS_UNAVAILABLE);
        clock.advance(MIN_INTERVAL);
        assertThat(reason(verifier.verify(rs256("k1", K1, "alice")))).isEqualTo(Reason.KEYS_UNAVAILABLE);
    }

    @Test
    void errorStatusOversizedBodyAndGarbageAreFetchFailures() {
        for (String body : new String[] {"{\"keys\":[]}", "x".repeat(JwksFetcher.MAX_BODY_BYTES + 1), "not json"}) {
            server.serveRaw(body, body.startsWith("{") ? 500 : 200);
            JwtVerifier verifier = verifier(server.uri());
            assertThat(reason(verifier.verify(rs256("k1", K1, "alice")))).as(body.substring(0, 8))
                    .isEqualTo(Reason.KEYS_UNAVAILABLE);
        }
    }

    @Test
    void cachedKeysKeepWorkingWhenTheEndpointGoesDown() {
        server.serve(rsaJwk("k1", K1));
        JwtVerifier verifier = verifier(server.uri());
        accepted(verifier.verify(rs256("k1", K1, "alice")));
        server.close();

        clock.advance(TTL);
        assertThat(accepted(verifier.verify(rs256("k1", K1, "alice"))).subject()).isEqualTo("alice");
        assertThat(reason(verifier.verify(rs256("k9", K2, "bob")))).isIn(Reason.KEYS_UNAVAILABLE, Reason.UNKNOWN_KEY);
        clock.advance(MIN_INTERVAL);
        assertThat(reason(verifier.verify(rs256("k9", K2, "bob")))).isEqualTo(Reason.KEYS_UNAVAILABLE);
        assertThat(accepted(verifier.verify(rs256("k1", K1, "alice"))).subject()).isEqualTo("alice");
    }

    @Test
    void keyMustFitTheTokenAlgorithm() {
        server.serve(new RSAKey.Builder((RSAPublicKey) K1.getPublic()).keyID("k1").algorithm(JWSAlgorithm.PS256).build(),
                new RSAKey.Builder((RSAPublicKey) K2.getPublic()).keyID("enc").keyUse(KeyUse.ENCRYPTION).build());
        JwtVerifier verifier = verifier(server.uri(), "RS256", "PS256");

        assertThat(accepted(verifier.verify(sign("PS256", K1.getPrivate(), "k1", claims("alice")))).subject())
                .isEqualTo("alice");
        assertThat(reason(verifier.verify(rs256("k1", K1, "alice")))).isEqualTo(Reason.UNKNOWN_KEY);
        assertThat(reason(verifier.verify(rs256("enc", K2, "alice")))).isEqualTo(Reason.UNKNOWN_KEY);
    }

    @Test
    void ecAndEd25519KeysAndKidlessTokensWork() {
        KeyPair ec = TestTokens.ec("secp256r1");
        KeyPair ed = TestTokens.ed25519();
        byte[] spki = ed.getPublic().getEncoded();
        server.serve(new ECKey.Builder(Curve.P_256, (ECPublicKey) ec.getPublic()).keyID("ec").build(),
                new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(Arrays.copyOfRange(spki, spki.length - 32, spki.length)))
                        .keyID("ed").build());
        JwtVerifier verifier = verifier(server.uri(), "ES256", "EdDSA");

        assertThat(accepted(verifier.verify(sign("ES256", ec.getPrivate(), "ec", claims("alice")))).subject())
                .isEqualTo("alice");
        assertThat(accepted(verifier.verify(sign("EdDSA", ed.getPrivate(), "ed", claims("bob")))).subject())
                .isEqualTo("bob");
        assertThat(accepted(verifier.verify(sign("EdDSA", ed.getPrivate(), null, claims("carol")))).subject())
                .isEqualTo("carol");
    }

    @Test
    void closingFailsWaitingVerificationsInsteadOfLeavingThemHanging() {
        server.serve(rsaJwk("k1", K1));
        server.hold();
        JwtVerifier verifier = verifier(server.uri());
        CompletableFuture<Principal> pending = verifier.verify(rs256("k1", K1, "alice"));

        verifier.close();

        assertThat(reason(pending)).isEqualTo(Reason.KEYS_UNAVAILABLE);
        assertThat(reason(verifier.verify(rs256("k1", K1, "alice")))).isEqualTo(Reason.KEYS_UNAVAILABLE);
    }
}
