package dev.portcullis.gateway.config;

import java.net.URI;
import java.time.Duration;

/**
 * Connection-spike alert: connection attempts per second against a moving baseline.
 *
 * @param spikeFactor alert when the rate exceeds this multiple of the baseline
 * @param spikeFloorPerSecond and the rate is at least this many attempts per second
 * @param spikeBaseline time constant of the moving baseline (exponentially weighted)
 * @param webhookUrl where to POST a JSON alert; null for none
 */
public record AlertsConfig(double spikeFactor, double spikeFloorPerSecond, Duration spikeBaseline, URI webhookUrl) {
    /** Webhook URLs often carry a secret in their path: only scheme, host and port are shown. */
    @Override
    public String toString() {
        String webhook = webhookUrl == null ? "none"
                : webhookUrl.getScheme() + "://" + webhookUrl.getHost() + (webhookUrl.getPort() < 0 ? "" : ":" + webhookUrl.getPort()) + "/<redacted>";
        return "AlertsConfig[spikeFactor=" + spikeFactor + ", spikeFloorPerSecond=" + spikeFloorPerSecond
                + ", spikeBaseline=" + spikeBaseline + ", webhookUrl=" + webhook + "]";
    }
}
