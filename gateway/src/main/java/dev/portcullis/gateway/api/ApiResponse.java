package dev.portcullis.gateway.api;

/** What the backend API answers: an HTTP status and a JSON body. */
public record ApiResponse(int status, String json) {
    static ApiResponse ok(String json) {
        return new ApiResponse(200, json);
    }
}
